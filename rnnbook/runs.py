"""A content-addressed cache of trained runs.

A run is keyed by the SHA-256 of its full resolved config (task name and config, model
config, training config, seed) together with the package version and a hash of the source
of the code that trains it (tasks, models, training). Each run is a folder holding
``spec.json``, ``weights.pt``, ``history.json`` and ``metadata.json``, written into a
temporary folder and renamed into place, so a killed process never leaves half a run; the
temporary folders a killed process leaves are removed by the next store into that cache.

What is loaded is verified: ``metadata.json`` holds the SHA-256 of the other three files and
the run's key, which must be the folder's name and the key of the stored spec (and of the
requested spec). A damaged, altered or swapped file raises ``DamagedRunError`` naming the file;
``fit`` then trains the run again and replaces the damaged entry (with a warning). Weights are
read with ``torch.load(weights_only=True)``, which refuses a pickle that would run code.

    run = fit(RunSpec("perceptual_decision", task_config, model_config, train_config, seed=3))
    run.cached  # True when it was loaded instead of trained
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import platform
import shutil
import time
import warnings
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

import rnnbook
from rnnbook.atomic import remove_stale, temporary_name
from rnnbook.models import MODELS, ModelConfig
from rnnbook.provenance import note_run
from rnnbook.runtime import threads_for
from rnnbook.seeding import check_seed
from rnnbook.tasks import TASKS, TaskConfig
from rnnbook.training import History, TrainConfig, train
from rnnbook.training.trainer import check_config_fits
from rnnbook.validation import config_from_dict

_TRAINING_CODE = ("tasks", "models", "training", "seeding.py", "validation.py", "tensors.py")
RUN_FILES = ("spec.json", "weights.pt", "history.json", "metadata.json")
CHECKED_FILES = RUN_FILES[:3]  # their SHA-256 is in metadata.json


class DamagedRunError(RuntimeError):
    """A stored run that cannot be trusted (missing, truncated, altered or swapped files, or a
    stored spec other than the requested one); the message names the file or folder."""


@dataclass(frozen=True)
class RunSpec:
    """Everything that decides what a trained run is.

    The model config's ``n_in``, ``n_out`` and ``dt`` come from the task: left None they are
    taken from it (``resolved_model_config``, what the model is built with and what the cache
    key hashes, so None and the task's own value give the same run); given and different from
    the task's, the spec is refused naming both values. The spec keeps the model config as
    given, so ``replace(spec, task_config=...)`` with another ``dt`` needs no second edit.
    """

    task: str  # registered task name (rnnbook.tasks.TASKS)
    task_config: TaskConfig
    model_config: ModelConfig
    train_config: TrainConfig
    seed: int = 0
    model: str = "rate"  # registered model name (rnnbook.models.MODELS): rate | gru

    def __post_init__(self):
        if not isinstance(self.task, str) or self.task not in TASKS:
            raise ValueError(
                f"RunSpec.task = {self.task!r} is unknown: choose one of {sorted(TASKS)}"
            )
        if not isinstance(self.model, str) or self.model not in MODELS:
            raise ValueError(
                f"RunSpec.model = {self.model!r} is unknown: choose one of {sorted(MODELS)}"
            )
        check_seed(self.seed, "RunSpec.seed")
        for name, kind in [
            ("task_config", TASKS[self.task].config_class),
            ("model_config", ModelConfig),
            ("train_config", TrainConfig),
        ]:
            if not isinstance(getattr(self, name), kind):
                raise ValueError(
                    f"RunSpec.{name} = {getattr(self, name)!r} is not allowed: want a "
                    f"{kind.__name__} (task {self.task!r})"
                )
        check_model = getattr(MODELS[self.model], "check_config", None)
        if check_model is not None:  # a model that reads only some ModelConfig fields (gru)
            check_model(self.model_config)
        task = TASKS[self.task](self.task_config)
        self.model_config.for_task(task)  # refuses sizes or dt that disagree with the task
        check_config_fits(task, self.train_config)  # a loss that fits the task's targets

    @property
    def resolved_model_config(self) -> ModelConfig:
        """The model config with ``n_in``, ``n_out`` and ``dt`` from the task."""
        return self.model_config.for_task(TASKS[self.task](self.task_config))

    def to_dict(self) -> dict:
        return {
            "task": self.task,
            "task_config": dataclasses.asdict(self.task_config),
            "model": self.model,
            "model_config": dataclasses.asdict(self.model_config),
            "train_config": dataclasses.asdict(self.train_config),
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RunSpec:
        """The spec of ``to_dict``; ValueError naming an unknown task or field."""
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("task"), str)
            or data["task"] not in TASKS
        ):
            task = data.get("task") if isinstance(data, dict) else data
            raise ValueError(f"RunSpec.task = {task!r} is unknown: choose one of {sorted(TASKS)}")
        return cls(
            task=data["task"],
            task_config=config_from_dict(
                TASKS[data["task"]].config_class, data.get("task_config"), where="task_config"
            ),
            model_config=config_from_dict(
                ModelConfig, data.get("model_config"), where="model_config"
            ),
            train_config=config_from_dict(
                TrainConfig, data.get("train_config"), where="train_config"
            ),
            seed=data.get("seed"),
            model=data.get("model", "rate"),
        )

    def key(self) -> str:
        """SHA-256 of the spec (its model config resolved from the task), the package version
        and the training code."""
        spec = self.to_dict() | {"model_config": dataclasses.asdict(self.resolved_model_config)}
        payload = {"spec": spec, "version": rnnbook.__version__, "code": code_hash()}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass
class Run:
    """A trained run: its spec, model, history, metadata and where it is stored."""

    spec: RunSpec
    model: torch.nn.Module
    history: History
    metadata: dict
    path: Path
    cached: bool


@cache
def code_hash() -> str:
    """SHA-256 of the source files of the code that trains a run."""
    root = Path(rnnbook.__file__).parent
    digest = hashlib.sha256()
    for part in _TRAINING_CODE:
        for path in (
            sorted((root / part).rglob("*.py")) if (root / part).is_dir() else [root / part]
        ):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def default_cache_dir() -> Path:
    """``$RNNBOOK_CACHE`` if set, else ``~/.cache/rnnbook/runs``."""
    env = os.environ.get("RNNBOOK_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "rnnbook" / "runs"


def build_model(spec: RunSpec) -> torch.nn.Module:
    """A freshly initialised model for ``spec`` (initialisation seeded by ``spec.seed``)."""
    return MODELS[spec.model](spec.resolved_model_config, seed=spec.seed)


def fit(
    spec: RunSpec, *, cache_dir: Path | str | None = None, progress: bool = True, callbacks=()
) -> Run:
    """The trained run for ``spec``: loaded from the cache if there, else trained and stored.

    ``callbacks`` only observe (logging, plots): anything that changes training belongs in
    the spec, since the cache key is computed from the spec alone.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache_dir / spec.key()
    if is_stored(path):
        try:
            run = load_run(path, spec=spec)
            note_run(run.path.name, trained=False)
            return run
        except DamagedRunError as error:
            warnings.warn(f"{error}: training the run again", stacklevel=2)
            discard_run(path)
    model = build_model(spec)
    task = TASKS[spec.task](spec.task_config)
    history = train(
        model, task, spec.train_config, seed=spec.seed, callbacks=callbacks, progress=progress
    )
    run = store_run(cache_dir, spec, model, history, wall_time=history.wall_s)
    note_run(run.path.name, trained=True)
    return run


def load_run(path: Path | str, *, spec: RunSpec | None = None) -> Run:
    """Load a stored run, verified: DamagedRunError naming the file if a file is missing or
    unreadable, its checksum differs from the one stored with the run, the stored spec is not
    the run of this folder, or (given ``spec``) not the requested one. Weights are read with
    ``torch.load(weights_only=True)``: a pickle that would run code is refused."""
    path = Path(path)
    metadata = _read_json(path / "metadata.json")
    _check_files(path, metadata)
    if metadata.get("code_hash") != code_hash():
        raise DamagedRunError(
            f"{path / 'metadata.json'}: the run was trained by other training code (code hash "
            f"{str(metadata.get('code_hash'))[:12]}…, this process has {code_hash()[:12]}…; was "
            "the source edited while it ran?)"
        )
    stored = _stored_spec(path)
    if spec is not None and spec.key() != path.name:
        raise DamagedRunError(
            f"{path}: is the run {path.name[:12]}…, not the requested spec's {spec.key()[:12]}…"
        )
    model = build_model(stored)
    try:
        state = torch.load(path / "weights.pt", weights_only=True)
        model.load_state_dict(state)
    except (pickle.UnpicklingError, RuntimeError, zipfile.BadZipFile, EOFError) as error:
        raise DamagedRunError(f"{path / 'weights.pt'}: {_first_line(error)}") from None
    history = History.from_dict(_read_json(path / "history.json"))
    return Run(spec or stored, model, history, metadata, path, cached=True)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def _read_json(file: Path) -> dict:
    try:
        data = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedRunError(f"{file}: cannot be read ({_first_line(error)})") from None
    if not isinstance(data, dict):
        raise DamagedRunError(f"{file}: holds a {type(data).__name__}, not a JSON object")
    return data


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_files(path: Path, metadata: dict) -> None:
    """Every checked file's SHA-256 equals the one in metadata.json; the key is the folder's."""
    if metadata.get("key") != path.name:
        raise DamagedRunError(
            f"{path / 'metadata.json'}: belongs to run {str(metadata.get('key'))[:12]}…, "
            f"not to the run of this folder {path.name[:12]}…"
        )
    checksums = metadata.get("sha256")
    if not isinstance(checksums, dict):
        raise DamagedRunError(f"{path / 'metadata.json'}: has no checksums of the run's files")
    for name in CHECKED_FILES:
        file = path / name
        try:
            actual = _sha256(file)
        except OSError as error:
            raise DamagedRunError(f"{file}: cannot be read ({_first_line(error)})") from None
        if actual != checksums.get(name):
            raise DamagedRunError(
                f"{file}: its SHA-256 differs from the one stored with the run (altered, "
                "truncated or swapped)"
            )


def _stored_spec(path: Path) -> RunSpec:
    file = path / "spec.json"
    try:
        stored = RunSpec.from_dict(_read_json(file))
    except (KeyError, TypeError, ValueError) as error:
        raise DamagedRunError(f"{file}: is not a valid spec ({_first_line(error)})") from None
    if stored.key() != path.name:
        raise DamagedRunError(f"{file}: is the spec of another run ({stored.key()[:12]}…)")
    return stored


def discard_run(path: Path | str) -> None:
    """Remove a stored run folder: renamed to a temporary name first (atomic), then deleted."""
    path = Path(path)
    aside = path.with_name(temporary_name(path.name[:12]))
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return
    shutil.rmtree(aside, ignore_errors=True)


def is_stored(path: Path | str) -> bool:
    """Whether the run folder ``path`` holds every file of a stored run."""
    return all((Path(path) / name).exists() for name in RUN_FILES)


def store_run(
    cache_dir: Path | str, spec: RunSpec, model, history: History, *, wall_time: float, **extra
) -> Run:
    """Store a trained run in ``cache_dir`` under its key (atomically) and return it.

    ``extra``: more metadata (e.g. ``trained_by``)."""
    path = Path(cache_dir) / spec.key()
    metadata = _metadata(spec, wall_time=wall_time) | extra
    _store(path, spec, model, history, metadata)
    return Run(spec, model, history, _read_json(path / "metadata.json"), path, cached=False)


def _metadata(spec: RunSpec, *, wall_time: float) -> dict:
    return {
        "key": spec.key(),
        "rnnbook_version": rnnbook.__version__,
        "code_hash": code_hash(),
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "threads": threads_for(spec.model_config.n_rec),  # what train() runs with
        "wall_time_s": round(wall_time, 3),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _store(path: Path, spec: RunSpec, model, history: History, metadata: dict) -> None:
    """Write the run into a temporary folder beside ``path``, then rename it into place.

    A complete run already there (another process stored the same run at the same time) is kept
    and this one dropped; an incomplete folder (damaged by hand) is replaced. metadata.json,
    written last, holds the SHA-256 of the other files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path.parent)
    tmp = path.with_name(temporary_name(path.name[:12]))
    tmp.mkdir()
    try:
        (tmp / "spec.json").write_text(json.dumps(spec.to_dict(), indent=1))
        torch.save(model.state_dict(), tmp / "weights.pt")
        (tmp / "history.json").write_text(json.dumps(history.to_dict()))
        checksums = {name: _sha256(tmp / name) for name in CHECKED_FILES}
        (tmp / "metadata.json").write_text(json.dumps(metadata | {"sha256": checksums}, indent=1))
        if path.exists() and not is_stored(path):
            discard_run(path)
        os.replace(tmp, path)
    except OSError:
        if not is_stored(path):
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
