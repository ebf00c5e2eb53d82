"""Any neurogym environment as an rnnbook task: one :class:`Trials` row per ``env.new_trial()``.

A neurogym ``TrialEnv`` builds a whole trial at once: ``new_trial()`` fills ``ob`` [T, n_in]
(the inputs), ``gt`` [T] (the correct action per step: 0 = fixate, then the choices) and, per
period name, its bounds ``start_t`` / ``end_t`` in ms. The adapter turns a batch of such trials
into :class:`Trials`:

- one trial per row, aligned at the trial's start and padded with zeros to the batch's longest
  trial; padding steps belong to no period and carry mask 0;
- ``targets`` [B, T]: the env's ``gt`` (class indices, ``n_classes`` = the env's action count);
- ``periods``: step ``t`` (time ``t * dt``) of a trial is in period ``p`` when
  ``int(start_t[p] / dt) <= t < int(end_t[p] / dt)`` (neurogym's own ``start_ind`` /
  ``end_ind``, the slices it writes ``ob`` and ``gt`` with); the periods of every trial tile it
  (an env whose periods overlap or leave a step out is refused);
- ``mask``: the decision period (``loss_on = "decision"``, the default) or every step of the
  trial (``loss_on = "trial"``: neurogym's supervised convention, the fixation steps judged too);
- ``conditions``: the numeric scalars of the env's ``trial`` dict (ints and bools as int64,
  other numbers as float32, each [B]); a key that is missing or not a number in some trial of
  the batch (e.g. a string ``ground_truth``) is left out.

Seeding: each batch draws one seed from the torch generator; every random generator inside the
env (each ``TrialEnv``'s ``rng``, a ``ScheduleEnvs``' sub-envs, each with its own stream, and
its schedule) is seeded from it with numpy's ``SeedSequence``, and a ``ScheduleEnvs`` starts at
a sub-env drawn from it too (neurogym's yang19 go/anti/match tasks alternate between two
modality envs; without this every batch would start with modality 0). The trials of a batch
are then the env's next ``batch_size`` trials, so the same generator gives the same trials.

Pool (``pool > 0``): each env instead serves a fixed set of ``pool`` trials, made on first use
in chunks of ``POOL_CHUNK`` (chunk ``c`` from the env seeded with ``(pool_seed, env, c)``) and
kept; a batch draws ``batch_size`` of them uniformly, with replacement, from the generator.
``pool_part = "train"`` / ``"val"`` draws only from the first ``1 - val_frac`` / the last
``val_frac`` of the pool (the original seed 000's "cached" mode: a cache made from a fixed
seed, 7, of which a fraction 0.1 is held out), so a training and a validation task built from
one config never share a trial. Tasks with the same config share their pool in one process.

Accuracy (:meth:`EnvTask.accuracy`): the fraction of decision steps (``periods["decision"]``)
at which the largest output is the target class (seed 000's ``acc_dec``).

``import rnnbook`` does not import neurogym: it is imported when an env is first built.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from rnnbook.tasks.base import Task, TaskConfig, Trials
from rnnbook.validation import (
    check_choice,
    check_integer,
    check_range,
    field_name,
    is_number,
)

LOSS_ON = {
    "decision": "the mask is 1 on the decision period only",
    "trial": "the mask is 1 on every step of the trial (the fixation steps judged too)",
}
POOL_PARTS = {
    "all": "draw from the whole pool",
    "train": "draw from the first 1 - val_frac of the pool",
    "val": "draw from the last val_frac of the pool",
}
MAX_ENV_STEPS = 100_000  # the most steps a trial of an env may span at dt
MAX_POOL = 10**7  # the most trials a pool may hold (made on demand)
POOL_CHUNK = 256  # pool trials are made this many at a time
REFERENCE_DT = 100.0  # ms: the dt at which an env's trial length is measured first
SEED_HIGH = 2**32  # batch seeds are drawn in [0, SEED_HIGH)


# ---------------------------------------------------------------------------------------------
# env keyword arguments: frozen (hashable, JSON-able) and thawed again for the env


class FrozenDict(dict):
    """A read-only, hashable dict (a mapping value inside a frozen config)."""

    def __hash__(self):
        return hash(tuple(sorted(self.items())))

    def __reduce__(self):
        return type(self), (dict(self),)

    def _read_only(self, *args, **kwargs):
        raise TypeError("a FrozenDict is read-only")

    __setitem__ = __delitem__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only


def freeze(value):
    """``value`` with dicts as :class:`FrozenDict` and lists as tuples (recursively); ValueError
    for anything but strings, booleans, None, numbers (``is_number``) and str-keyed dicts."""
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError(f"{value!r} has a key that is no string")
        return FrozenDict((k, freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Real) and is_number(value):
        return value
    raise ValueError(f"{value!r} is not a string, boolean, None, finite number, list or dict")


def thaw(value):
    """A frozen value as the env takes it: :class:`FrozenDict` as dict, tuples as lists."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def keyword_pairs(config, field: str) -> tuple[tuple[str, Any], ...]:
    """The keyword arguments in ``config.<field>`` (a dict, or (name, value) pairs) as a tuple
    of (name, frozen value) pairs sorted by name; ValueError naming the field otherwise."""
    given = getattr(config, field)
    name = field_name(config, field)
    want = (
        "want keyword arguments of the env as (name, value) pairs or a dict, names strings "
        "(not 'dt': that is the config's own field) and values strings, booleans, None, finite "
        "numbers, lists or dicts of those"
    )
    items = list(given.items()) if isinstance(given, dict) else given
    if not isinstance(items, (tuple, list)):
        raise ValueError(f"{name} = {given!r} is not allowed: {want}")
    pairs = []
    for item in items:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
            raise ValueError(f"{name} = {given!r} is not allowed: {item!r} is no pair; {want}")
        try:
            pairs.append((item[0], freeze(item[1])))
        except ValueError as error:
            raise ValueError(f"{name} = {given!r} is not allowed: {error}; {want}") from None
    names = [k for k, _ in pairs]
    if len(set(names)) < len(names) or "dt" in names:
        raise ValueError(f"{name} = {given!r} is not allowed: a repeated name or 'dt'; {want}")
    return tuple(sorted(pairs, key=lambda kv: kv[0]))


# ---------------------------------------------------------------------------------------------
# envs: built, seeded, one trial read


def registered_envs() -> list[str]:
    """The ids of every env neurogym registers (native, collections such as yang19, ...)."""
    from neurogym.envs.registration import ALL_EXTENDED_ENVS

    return sorted(ALL_EXTENDED_ENVS)


def make_env(env_id: str, **kwargs):
    """``neurogym.make(env_id, **kwargs)``, without gymnasium's warning that neurogym's envs
    name no ``render_modes``."""
    import neurogym

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*render_modes.*")
        return neurogym.make(env_id, **kwargs)


def entry(env):
    """The object whose ``new_trial()`` starts a trial of ``env`` (any layer of it): the top
    wrapper neurogym records in ``env.unwrapped._top``."""
    return env.unwrapped._top


def batch_seed(generator: torch.Generator) -> int:
    """One seed in [0, 2**32) drawn from ``generator``: a batch's seed."""
    return int(torch.randint(SEED_HIGH, (1,), generator=generator))


@dataclass
class SeededEnv:
    """An env ready for its next trials: ``top`` starts one; ``cores`` are all its
    ``TrialEnv`` s (their period bounds are cleared before each trial)."""

    top: Any
    cores: list = field(default_factory=list)


def seed_env(env, seed: int | Sequence[int] | np.random.SeedSequence) -> SeededEnv:
    """Seed every random generator in ``env`` (in place) from ``seed``: each ``TrialEnv``'s
    ``rng`` (and action space), each sub-env of a ``ScheduleEnvs`` / ``MultiEnvs`` from its own
    child seed, a schedule's ``rng`` and the sub-env a ``ScheduleEnvs`` starts with. State
    that no generator holds (a trial-history wrapper's last trial) is not reset."""
    from neurogym.core import TrialEnv

    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    top = entry(env)
    cores: list = []

    def draw(seq: np.random.SeedSequence) -> int:
        return int(seq.generate_state(1)[0])

    def walk(obj, seq: np.random.SeedSequence) -> None:
        own = vars(obj)
        if own.get("envs") is not None:  # ScheduleEnvs, MultiEnvs
            envs = own["envs"]
            for sub, child in zip(envs, seq.spawn(len(envs)), strict=True):
                walk(sub, child)
            rng = np.random.RandomState(draw(seq))
            if own.get("schedule") is not None:
                own["schedule"].seed(int(rng.randint(2**31)))
            if "next_i_env" in own:
                first = int(rng.randint(len(envs)))
                obj.set_i(first)
                obj.next_i_env = first
        elif isinstance(obj, TrialEnv):
            obj.seed(draw(seq))
            cores.append(obj)
        else:  # a wrapper: its own generator, if any, then the env inside
            if isinstance(own.get("rng"), np.random.RandomState):
                obj.rng = np.random.RandomState(draw(seq))
            walk(obj.env, seq.spawn(1)[0])

    walk(top, sequence)
    return SeededEnv(top, cores)


@dataclass(frozen=True)
class TrialRecord:
    """One trial of an env as numpy arrays.

    inputs:  [T, n_in] float32, the env's ``ob``.
    targets: [T] int64, the class of each step (the env's ``gt``, or relabelled).
    period:  [T] int64, each step's period as an index into ``names``.
    names:   the trial's period names, in the order the env added them.
    info:    the numeric scalars of the env's ``trial`` dict (python ints and floats).
    """

    inputs: np.ndarray
    targets: np.ndarray
    period: np.ndarray
    names: tuple[str, ...]
    info: dict[str, float | int]

    def __len__(self) -> int:
        return self.inputs.shape[0]

    def steps(self, name: str) -> np.ndarray:
        """[T] bool: the steps of period ``name``."""
        return self.period == self.names.index(name) if name in self.names else self.period < -1


def numbers_of(trial) -> dict[str, float | int]:
    """The numeric scalars of a trial dict (bools as ints), as python numbers."""
    out: dict[str, float | int] = {}
    for key, value in (trial or {}).items():
        if isinstance(value, (bool, np.bool_)):
            out[key] = int(value)
        elif isinstance(value, (numbers.Integral, np.integer)):
            out[key] = int(value)
        elif isinstance(value, (numbers.Real, np.floating)):
            out[key] = float(value)
    return out


def next_trial(env: SeededEnv) -> TrialRecord:
    """The env's next trial (``top.new_trial()``) read into a :class:`TrialRecord`; ValueError
    when its ``ob`` / ``gt`` are not [T, n_in] / [T] or its periods do not tile it."""
    for core in env.cores:  # periods of earlier trials must not leak into this one
        for bounds in (core.start_t, core.end_t, core.start_ind, core.end_ind):
            bounds.clear()
    trial = env.top.new_trial()
    core = env.top.unwrapped
    inputs = np.array(core.ob, dtype=np.float32)
    targets = np.array(core.gt).astype(np.int64)
    n_steps = inputs.shape[0]
    if inputs.ndim != 2 or targets.shape != (n_steps,):
        raise ValueError(
            f"{type(core).__name__} gives ob {inputs.shape} and gt {targets.shape}: the adapter "
            "wants ob [T, n_in] and gt [T] (a Box observation and a Discrete action space)"
        )
    names = tuple(core.start_t)
    period = np.full(n_steps, -1, dtype=np.int64)
    for i, name in enumerate(names):
        start, end = int(core.start_t[name] / core.dt), int(core.end_t[name] / core.dt)
        if end > n_steps or np.any(period[start:end] >= 0):
            raise ValueError(f"{type(core).__name__}: period {name!r} overlaps another")
        period[start:end] = i
    if np.any(period < 0):
        raise ValueError(
            f"{type(core).__name__}: its periods {names} leave steps of the trial out: the "
            "adapter wants periods that tile each trial"
        )
    return TrialRecord(inputs, targets, period, names, numbers_of(trial))


def next_trials(env: SeededEnv, n: int) -> list[TrialRecord]:
    """The env's next ``n`` trials."""
    return [next_trial(env) for _ in range(n)]


def collate(records: Sequence[TrialRecord], *, dt: float, loss_on: str = "decision") -> Trials:
    """One :class:`Trials` from trial records: inputs [B, T, n_in] and targets [B, T] padded
    with zeros to the longest trial, periods [B, T] per name (union over the batch, in order of
    first appearance), mask [B, T] by ``loss_on`` (see ``LOSS_ON``), conditions from the
    records' ``info`` (keys in every record; int64 when all are ints, else float32)."""
    n_steps = max(len(r) for r in records)
    n_in = records[0].inputs.shape[1]
    inputs = np.zeros((len(records), n_steps, n_in), dtype=np.float32)
    targets = np.zeros((len(records), n_steps), dtype=np.int64)
    period = np.full((len(records), n_steps), -1, dtype=np.int64)
    index: dict[str, int] = {}
    for b, record in enumerate(records):
        n = len(record)
        inputs[b, :n] = record.inputs
        targets[b, :n] = record.targets
        remap = np.array([index.setdefault(name, len(index)) for name in record.names])
        period[b, :n] = remap[record.period]
    periods = {name: torch.from_numpy(period == i) for name, i in index.items()}
    in_trial = torch.from_numpy(period >= 0)
    if loss_on == "trial":
        mask = in_trial.float()
    else:
        mask = periods.get("decision", torch.zeros_like(in_trial)).float()
    return Trials(
        inputs=torch.from_numpy(inputs),
        targets=torch.from_numpy(targets),
        mask=mask,
        conditions=conditions_of([r.info for r in records]),
        dt=dt,
        periods=periods,
    )


def conditions_of(infos: Sequence[dict]) -> dict[str, torch.Tensor]:
    """Per-trial tensors [B] of the keys every trial dict has: int64 when every value is an
    int, else float32."""
    keys = [k for k in infos[0] if all(k in info for info in infos)]
    out = {}
    for key in keys:
        values = [info[key] for info in infos]
        if all(isinstance(v, int) for v in values):
            out[key] = torch.tensor(values, dtype=torch.int64)
        else:
            out[key] = torch.tensor(values, dtype=torch.float32)
    return out


def decision_accuracy(outputs: torch.Tensor, trials: Trials) -> torch.Tensor:
    """The fraction of decision steps (``trials.periods["decision"]``, over the whole batch) at
    which ``outputs`` [B, T, n_out] is largest at the target class: a float tensor scalar (NaN
    without decision steps)."""
    decision = trials.periods.get("decision")
    if decision is None or not bool(decision.any()):
        return torch.tensor(math.nan, device=outputs.device)
    decision = decision.to(outputs.device)
    correct = outputs.argmax(dim=-1) == trials.targets.to(outputs.device)
    return correct[decision].float().mean()


def sample_env(
    env, batch_size: int, *, generator: torch.Generator, loss_on: str = "decision"
) -> Trials:
    """``batch_size`` trials of a neurogym env instance (any layer of it) as :class:`Trials`,
    seeded from one draw of ``generator`` (see the module docstring). The env is seeded in
    place: its random state afterwards depends on the generator."""
    seeded = seed_env(env, batch_seed(generator))
    return collate(
        next_trials(seeded, batch_size), dt=float(seeded.top.unwrapped.dt), loss_on=loss_on
    )


# ---------------------------------------------------------------------------------------------
# pools


class TrialPool:
    """``size`` trials of one env, made on demand ``POOL_CHUNK`` at a time and kept: chunk
    ``c`` holds trials ``c * POOL_CHUNK ...`` made by ``env`` seeded with ``(seed, key, c)``
    (``key``: a string naming the env, hashed)."""

    def __init__(self, env, size: int, seed: int, key: str):
        self.env, self.size, self.seed = env, size, seed
        self.key = zlib.crc32(key.encode())
        self.chunks: dict[int, list[TrialRecord]] = {}

    def chunk(self, c: int) -> list[TrialRecord]:
        if c not in self.chunks:
            n = min(POOL_CHUNK, self.size - c * POOL_CHUNK)
            seeded = seed_env(self.env, [self.seed, self.key, c])
            self.chunks[c] = next_trials(seeded, n)
        return self.chunks[c]

    def __getitem__(self, i: int) -> TrialRecord:
        return self.chunk(i // POOL_CHUNK)[i % POOL_CHUNK]


def pool_range(config) -> tuple[int, int]:
    """[low, high): the pool indices that ``config.pool_part`` draws from."""
    n_val = max(1, round(config.val_frac * config.pool))
    n_train = config.pool - n_val
    return {
        "all": (0, config.pool),
        "train": (0, n_train),
        "val": (n_train, config.pool),
    }[config.pool_part]


def check_pool_fields(config) -> None:
    """Validate the pool fields shared by the env tasks' configs (``pool``, ``pool_seed``,
    ``pool_part``, ``val_frac``) and ``loss_on``."""
    check_choice(config, "loss_on", LOSS_ON)
    check_integer(config, "pool", minimum=0)
    if config.pool > MAX_POOL:
        raise ValueError(
            f"{field_name(config, 'pool')} = {config.pool!r} is out of range: allowed at most "
            f"{MAX_POOL} trials per env"
        )
    check_integer(config, "pool_seed", minimum=0)
    check_choice(config, "pool_part", POOL_PARTS)
    check_range(config, "val_frac", 0.0, 1.0, closed="neither")
    if config.pool_part != "all":
        low, high = (0, 0) if config.pool < 2 else pool_range(config)
        if not 0 <= low < high:
            raise ValueError(
                f"{field_name(config, 'pool_part')} = {config.pool_part!r} is not allowed with "
                f"{field_name(config, 'pool')} = {config.pool!r} and "
                f"{field_name(config, 'val_frac')} = {config.val_frac!r}: that part holds no "
                "trial; want pool >= 2 (and a val_frac that leaves trials on both sides), or "
                "pool_part = 'all'"
            )


# ---------------------------------------------------------------------------------------------
# the task base


class EnvTask(Task):
    """A classification task whose trials come from neurogym envs (its *sources*).

    Subclasses build their envs in :meth:`build_envs` (a list, one per source, each with a key
    naming it) and may choose each trial's source (:meth:`sources`, default: all from the
    first), relabel the trials (:meth:`relabel`) and add conditions (:meth:`add_conditions`).
    Their configs have the fields ``loss_on``, ``pool``, ``pool_seed``, ``pool_part`` and
    ``val_frac`` (``check_pool_fields``).
    """

    target_kind = "classes"
    periods_tile_trial = True

    def __init__(self, config: TaskConfig | None = None):
        super().__init__(config)
        self.envs = self.build_envs()

    # hooks ------------------------------------------------------------------------------------
    def build_envs(self) -> list[tuple[str, Any]]:
        """(key, env) per source, built for this task instance (it seeds them in place)."""
        raise NotImplementedError

    def sources(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """[B] the source of each trial of a batch (LongTensor)."""
        return torch.zeros(batch_size, dtype=torch.int64)

    def relabel(self, record: TrialRecord) -> TrialRecord:
        return record

    def add_conditions(self, trials: Trials, sources: torch.Tensor) -> Trials:
        return trials

    # sizes ------------------------------------------------------------------------------------
    @property
    def n_in(self) -> int:
        return int(self.envs[0][1].observation_space.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.envs[0][1].action_space.n)

    @property
    def n_classes(self) -> int:
        return self.n_out

    # sampling ---------------------------------------------------------------------------------
    def held_out(self) -> Task:
        """The pool's held-out part (``pool_part="val"``) when training draws from its training
        part; else the task itself."""
        if self.config.pool and self.config.pool_part == "train":
            return self.with_config(pool_part="val")
        return self

    def sample(self, batch_size: int, *, generator: torch.Generator) -> Trials:
        """``batch_size`` trials: sources chosen, then fresh trials of the seeded envs (or
        trials drawn from their pools), relabelled and collated."""
        sources = self.sources(batch_size, generator)
        records = (
            self.pooled(sources, generator) if self.config.pool else self.fresh(sources, generator)
        )
        trials = collate(
            [self.relabel(r) for r in records], dt=self.config.dt, loss_on=self.config.loss_on
        )
        return self.add_conditions(trials, sources)

    def fresh(self, sources: torch.Tensor, generator: torch.Generator) -> list[TrialRecord]:
        """One new trial per entry of ``sources``, each source's envs seeded from one batch
        seed (a child seed per source)."""
        children = np.random.SeedSequence(batch_seed(generator)).spawn(len(self.envs))
        seeded = {}
        records = []
        for k in sources.tolist():
            if k not in seeded:
                seeded[k] = seed_env(self.envs[k][1], children[k])
            records.append(next_trial(seeded[k]))
        return records

    def pooled(self, sources: torch.Tensor, generator: torch.Generator) -> list[TrialRecord]:
        """One pool trial per entry of ``sources``, drawn uniformly from ``pool_part``."""
        low, high = pool_range(self.config)
        picks = low + torch.randint(high - low, (len(sources),), generator=generator)
        pools = _pools(type(self), dataclasses.replace(self.config, pool_part="all"))
        return [pools[k][i] for k, i in zip(sources.tolist(), picks.tolist(), strict=True)]

    def accuracy(self, outputs: torch.Tensor, trials: Trials) -> torch.Tensor:
        """The decision-step accuracy (``decision_accuracy``): seed 000's ``acc_dec``."""
        return decision_accuracy(outputs, trials)


@functools.lru_cache(maxsize=16)
def _pools(task_class: type[EnvTask], config: TaskConfig) -> list[TrialPool]:
    """The pools (one per source) of the tasks of ``config``: shared by every task instance of
    that config in this process, made by envs of their own."""
    return [
        TrialPool(env, config.pool, config.pool_seed, key) for key, env in task_class(config).envs
    ]


# ---------------------------------------------------------------------------------------------
# the registered task "neurogym"


@dataclass(frozen=True)
class Probe:
    """What one trial (seed 0) of an env shows, or why the env failed."""

    error: str = ""  # empty when the env built and sampled
    n_in: int = 0
    n_out: int = 0
    names: tuple[str, ...] = ()
    n_steps: int = 0
    decision_steps: int = 0


@functools.lru_cache(maxsize=256)
def probe(env_id: str, env_kwargs: tuple, dt: float) -> Probe:
    """Build ``env_id`` with ``env_kwargs`` at ``dt`` and sample one trial (seed 0)."""
    try:
        env = make_env(env_id, dt=dt, **{k: thaw(v) for k, v in env_kwargs})
        n_out = getattr(env.action_space, "n", None)
        shape = getattr(env.observation_space, "shape", None)
        if n_out is None or shape is None or len(shape) != 1:
            return Probe(
                error=f"its spaces are {env.observation_space} and {env.action_space}: the "
                "adapter wants a 1-D Box observation and a Discrete action space"
            )
        record = next_trial(seed_env(env, 0))
    except Exception as error:  # any failure of a third-party env is reported
        return Probe(error=f"{type(error).__name__}: {error}")
    return Probe(
        n_in=int(shape[0]),
        n_out=int(n_out),
        names=record.names,
        n_steps=len(record),
        decision_steps=int(record.steps("decision").sum()),
    )


@dataclass(frozen=True)
class NeurogymConfig(TaskConfig):
    """A neurogym env as a task: ``env`` (a registered id) built with ``env_kwargs`` at
    ``dt``. Refused, naming the field, when the env cannot be built or sample a trial, when a
    trial would span more than ``MAX_ENV_STEPS`` steps, or (``loss_on = "decision"``) when a
    trial has no decision step; these are checked on one trial (seed 0) at ``REFERENCE_DT`` and
    at ``dt``: an env whose periods vary from trial to trial might still fail later."""

    env: str = "yang19.dm1-v0"  # a neurogym env id (rnnbook.tasks.neurogym_tasks.registered_envs)
    env_kwargs: tuple = ()  # keyword arguments of the env: (name, value) pairs (or a dict)
    dt: float = 100.0  # ms; passed to the env (neurogym's default)
    loss_on: str = "decision"  # where the mask is 1: "decision" | "trial" (LOSS_ON)
    pool: int = 0  # > 0: serve a fixed pool of this many trials (module docstring)
    pool_seed: int = 7  # the seed the pool is made from (seed 000's cache seed)
    pool_part: str = "all"  # the part of the pool drawn from: "all" | "train" | "val"
    val_frac: float = 0.1  # the fraction of the pool held out as "val"

    def __post_init__(self):
        super().__post_init__()
        given = self.env_kwargs
        object.__setattr__(self, "env_kwargs", keyword_pairs(self, "env_kwargs"))
        check_pool_fields(self)
        self._check_env(given)

    def _check_env(self, given_kwargs) -> None:
        """The env builds and samples a trial at ``REFERENCE_DT`` and at ``dt``, neither too
        long nor without a decision step when the decision is judged."""
        name = field_name(self, "env")
        if not isinstance(self.env, str) or self.env not in registered_envs():
            raise ValueError(
                f"{name} = {self.env!r} is not allowed: choose one of the neurogym env ids "
                f"{registered_envs()}"
            )
        reference = probe(self.env, self.env_kwargs, REFERENCE_DT)
        kwargs_name = field_name(self, "env_kwargs")
        if reference.error:
            raise ValueError(
                f"{name} = {self.env!r} with {kwargs_name} = {given_kwargs!r} is not allowed: "
                f"the env could not build or sample a trial ({reference.error}); want keyword "
                "arguments its constructor takes"
            )
        trial_ms = (reference.n_steps + len(reference.names)) * REFERENCE_DT
        dt_name = field_name(self, "dt")
        if trial_ms / self.dt > MAX_ENV_STEPS:
            raise ValueError(
                f"{dt_name} = {self.dt!r} is out of range: a trial of {self.env!r} (about "
                f"{trial_ms:g} ms) would span {trial_ms / self.dt:.4g} steps; allowed at most "
                f"{MAX_ENV_STEPS} (is dt in s instead of ms?)"
            )
        at_dt = probe(self.env, self.env_kwargs, float(self.dt))
        if at_dt.error:
            raise ValueError(
                f"{dt_name} = {self.dt!r} is not allowed: {self.env!r} could not sample a "
                f"trial at it ({at_dt.error}); want a dt at which its periods are whole steps"
            )
        if self.loss_on == "decision" and "decision" not in reference.names:
            raise ValueError(
                f"{name} = {self.env!r} is not allowed with {field_name(self, 'loss_on')} = "
                f"'decision': its trials have no decision period (periods {reference.names}); "
                "choose loss_on = 'trial' or another env"
            )
        if self.loss_on == "decision" and at_dt.decision_steps < 1:
            raise ValueError(
                f"{dt_name} = {self.dt!r} is out of range: a trial of {self.env!r} has no "
                "decision step at it (periods are whole steps of dt, rounded down); want a "
                "smaller dt"
            )


class NeurogymTask(EnvTask):
    """A registered neurogym env as a task (see the module docstring). Inputs [B, T, n_in]
    (the env's observation size), targets [B, T] (its ``gt``; ``n_classes`` = its action
    count), mask by ``loss_on``, periods from its period bounds, conditions from its trial
    dicts."""

    config_class: ClassVar[type[TaskConfig]] = NeurogymConfig
    name = "neurogym"

    def build_envs(self) -> list[tuple[str, Any]]:
        cfg = self.config
        kwargs = {k: thaw(v) for k, v in cfg.env_kwargs}
        return [(cfg.env, make_env(cfg.env, dt=cfg.dt, **kwargs))]


__all__ = [
    "EnvTask",
    "FrozenDict",
    "NeurogymConfig",
    "NeurogymTask",
    "SeededEnv",
    "TrialPool",
    "TrialRecord",
    "batch_seed",
    "collate",
    "decision_accuracy",
    "make_env",
    "next_trial",
    "next_trials",
    "registered_envs",
    "sample_env",
    "seed_env",
]
