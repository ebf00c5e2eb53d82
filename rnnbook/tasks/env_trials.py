"""The plumbing that turns environments that make one trial at a time into rnnbook ``Trials``:
hashable keyword arguments, seeded environments, trial records and their collation into a
padded batch with periods and conditions, decision-step accuracy, and seeded pools of trials
held out in part for validation. Used by the neurogym and Mod-Cog tasks."""

from __future__ import annotations

import math
import numbers
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from rnnbook.tasks.base import Trials
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
