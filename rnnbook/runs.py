"""A content-addressed cache of trained runs.

A run is keyed by the SHA-256 of its full resolved config (task name and config, model
config, training config, seed) together with the package version and a hash of the source
of the code that trains it (tasks, models, training). Each run is a folder holding
``spec.json``, ``weights.pt``, ``history.json`` and ``metadata.json``, written into a
temporary folder and renamed into place, so a killed process never leaves half a run.

    run = fit(RunSpec("perceptual_decision", task_config, model_config, train_config, seed=3))
    run.cached  # True when it was loaded instead of trained
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

import rnnbook
from rnnbook.models import MODELS, ModelConfig
from rnnbook.runtime import threads_for
from rnnbook.seeding import check_seed
from rnnbook.tasks import TASKS, TaskConfig
from rnnbook.training import History, TrainConfig, train

_TRAINING_CODE = ("tasks", "models", "training", "seeding.py", "validation.py", "tensors.py")
RUN_FILES = ("spec.json", "weights.pt", "history.json", "metadata.json")


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
    model: str = "rate"  # registered model name (rnnbook.models.MODELS)

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(
                f"RunSpec.task = {self.task!r} is unknown: choose one of {sorted(TASKS)}"
            )
        if self.model not in MODELS:
            raise ValueError(
                f"RunSpec.model = {self.model!r} is unknown: choose one of {sorted(MODELS)}"
            )
        check_seed(self.seed)
        self.resolved_model_config  # noqa: B018  (refuses a config that disagrees with the task)

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
        return cls(
            task=data["task"],
            task_config=TASKS[data["task"]].config_class(**data["task_config"]),
            model_config=ModelConfig(**data["model_config"]),
            train_config=TrainConfig(**data["train_config"]),
            seed=data["seed"],
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
        return load_run(path)
    model = build_model(spec)
    task = TASKS[spec.task](spec.task_config)
    history = train(
        model, task, spec.train_config, seed=spec.seed, callbacks=callbacks, progress=progress
    )
    return store_run(cache_dir, spec, model, history, wall_time=history.wall_s)


def load_run(path: Path | str) -> Run:
    """Load a stored run (weights with ``torch.load(weights_only=True)``)."""
    path = Path(path)
    spec = RunSpec.from_dict(json.loads((path / "spec.json").read_text()))
    model = build_model(spec)
    model.load_state_dict(torch.load(path / "weights.pt", weights_only=True))
    history = History.from_dict(json.loads((path / "history.json").read_text()))
    metadata = json.loads((path / "metadata.json").read_text())
    return Run(spec, model, history, metadata, path, cached=True)


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
    return Run(spec, model, history, metadata, path, cached=False)


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

    A complete run already there (another process stored the same run) is kept; an incomplete
    folder (damaged by hand, or from before atomic writes) is replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{path.name[:12]}-", dir=path.parent))
    try:
        (tmp / "spec.json").write_text(json.dumps(spec.to_dict(), indent=1))
        torch.save(model.state_dict(), tmp / "weights.pt")
        (tmp / "history.json").write_text(json.dumps(history.to_dict()))
        (tmp / "metadata.json").write_text(json.dumps(metadata, indent=1))
        if path.exists() and not is_stored(path):
            shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)
    except OSError:
        if not is_stored(path):
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
