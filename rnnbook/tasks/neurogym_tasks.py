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
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from rnnbook.tasks.base import Task, TaskConfig, Trials
from rnnbook.tasks.env_trials import (
    MAX_ENV_STEPS,
    REFERENCE_DT,
    FrozenDict,
    SeededEnv,
    TrialPool,
    TrialRecord,
    batch_seed,
    check_pool_fields,
    collate,
    decision_accuracy,
    keyword_pairs,
    make_env,
    next_trial,
    next_trials,
    pool_range,
    registered_envs,
    sample_env,
    seed_env,
    thaw,
)
from rnnbook.validation import (
    field_name,
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

    env: str = "yang19.dm1-v0"  # a neurogym env id (rnnbook.tasks.env_trials.registered_envs)
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
