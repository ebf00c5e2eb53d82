"""Mod-Cog (Khona, Chandra et al. 2022): yang19's 20 cognitive tasks with the ``seq`` and ``int``
extensions, on neurogym 2.3.1, and the task ``"modcog"`` that trains on some of them.

**The 82 tasks** (``MODCOG_TASKS``, named as Mod-Cog's README lists them; each name maps to a
constructor of its neurogym env, e.g. ``MODCOG_TASKS["dm1"](dt=100.0)``):

- the 20 base tasks ``BASE_TASKS``: go, rtgo, dlygo, anti, rtanti, dlyanti (reach family);
  dm1, dm2, ctxdm1, ctxdm2, multidm (decision making); dlydm1, dlydm2, ctxdlydm1, ctxdlydm2,
  multidlydm (delayed decision making); dms, dnms, dmc, dnmc (delayed match);
- ``<task>intr`` / ``<task>intl`` for the 11 tasks with a delay (``DELAY_TASKS``): 22 tasks;
- ``<task>seqr`` / ``<task>seql`` for all 20: 40 tasks.

Mod-Cog's README lists dlyantiintr and dlyantiintl twice (84 entries, 82 distinct names); the
spec's count, 82 = 20 + 22 + 20 + 20, is the distinct ones. Combined ``intseq`` tasks (11 more
in the original code) are not included.

**Encoding** (spec §0.5). A ring of 16 directions ``2 pi k / 16``; a stimulus is a bump
``0.8 exp(-d^2 / 2) * strength`` with ``d`` the periodic distance in units of ``pi / 8``.
Inputs: 33 = fixation + 2 modalities x 16 (reach and match tasks alternate trial by trial
between modality 0 and 1, as neurogym's two-env ``RandomSchedule`` does; the DM tasks use
both rings). Actions: 17 = fixate + 16 directions. dt: 100 ms (also 1, 2, 4, 5, 10, 20, 25,
50: every duration is then a whole number of steps). No task cue is appended to the inputs
(as in the original single-head training).

**Timing and parameters per family** (ms; as the original Mod-Cog code, which the spec
summarises; fixation U(200, 500) and the match delay are rounded down to whole steps):

- reach (go, anti, rt*, dly*): fixation 500, stimulus 500, delay 500, decision 500; the rt
  tasks have fixation and decision only, the stimulus shown in the decision. anti: the
  stimulus at theta + pi. No input noise. As in the original, go and anti have the same 500 ms
  delay as dlygo and dlyanti (neurogym's yang19 go has none).
- dm1, dm2, ctxdm1, ctxdm2, multidm: fixation U(200, 500), stimulus 500, decision 200; two
  bumps of strength 0.5 +- coh / 2, coh in (0.08, 0.16, 0.32, 0.64); noise 1 / sqrt(dt) (0.1)
  on every input during the stimulus (the fixation input too, as in the original).
- dlydm1, dlydm2, ctxdlydm1, ctxdlydm2, multidlydm: fixation U(200, 500), stim1 500, delay 500,
  stim2 500, decision 200; strengths two different cohs of (0.3, 0.6, 1.0); noise as above.
- dms, dnms, dmc, dnmc: fixation 300, sample 500, delay U(200, 1200), test 500, decision 900;
  noise 1 / sqrt(dt) on the stimulus units during sample and test. The original draws the
  delay once per env (each of the two modality envs of a task): ``match_delay = "per_env"``
  draws it from ``env_seed`` when the task is built; ``"per_trial"`` draws it per trial.
- seq: decision 1000 ms (the rt tasks keep 500, as in the original).

**Extensions.** ``seq`` (r: +1, l: -1): on step ``t`` of the decision the target is ``int(seq t
omega dt)`` ring indices further (omega = 0.01 "rad/ms": one index per 100 ms step). ``int``
(r: +1, l: -1): reach tasks draw the delay per trial from {0, 100, ..., 1100} ms and show the
stimulus ``int * omega * delay`` rad further round (the target stays); DM tasks keep their
500 ms delay and the target index moves by ``int(mod(i + int * omega * 500, 16))``, 5 indices;
match tasks draw the delay per trial from {0, ..., 1100} and the response index moves by
``int(mod(i + int * omega * delay, 16))``, 0 to 11 indices. (The spec's summary says the delay
is drawn per trial for every int task; the original code keeps 500 ms for the DM family.)

**Labels** (spec §0.4). The env's ground truth on the decision steps is Mod-Cog's ``Y = (i + 1)
mod 16`` for a response at ring index ``i`` (index 15 gives 0), and 0 on a no-go decision
(dnms/dms/... fixate). The task's targets:

- ``labels = "original"`` (seed 000's convention): class 0 on non-decision steps, ``1 + Y`` on
  decision steps: ring index 15 is class 1, index ``i < 15`` is ``i + 2``; a no-go decision is
  class 1 too, the collision of the original in multitask runs with dms/dnms/dmc/dnmc.
- ``labels = "clean"``: ``i + 1`` on the decision steps of go trials, 0 everywhere else (a
  no-go decision is the fixate class 0).

The decision steps (``Trials.periods["decision"]``, the mask with ``loss_on = "decision"``)
are those whose fixation input is < 0.5 (§0.4): the env's decision period, except that input
noise on the fixation input of the DM tasks (sigma 0.1) may push a stimulus step below 0.5
(probability about 3e-7 a step): such a step is then a decision step, as in the original.

**Sampling.** Each trial of a batch picks one of ``tasks`` (``mix``): ``"uniform"`` (each trial
independently), ``"round_robin"`` (trial b takes task ``(start + b) mod n``, ``start`` drawn
per batch: counts differ by at most one) or ``"per_batch"`` (one task for the whole batch,
drawn per batch: the original trains one task per step, cycling through them step by step,
a schedule for the trainer). Trials are seeded from the generator (``EnvTask``); with ``pool``
each task has its own pool. Conditions: ``task`` (index into ``tasks``), ``ground_truth`` (the
ring index of the response at the first decision step, -1 on a no-go trial) and the numbers of
the env's trial dicts that every trial of the batch has.
"""

from __future__ import annotations

import functools
import types
import zlib
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import torch

from rnnbook.tasks.base import TaskConfig, Trials
from rnnbook.tasks.env_trials import TrialRecord, check_pool_fields
from rnnbook.tasks.neurogym_tasks import EnvTask
from rnnbook.validation import check_choice, check_integer, field_name

REACH = {  # yang19's reach family: name -> keyword arguments of modcog_envs.Reach
    "go": {"anti": False},
    "rtgo": {"anti": False, "reaction": True},
    "dlygo": {"anti": False},
    "anti": {"anti": True},
    "rtanti": {"anti": True, "reaction": True},
    "dlyanti": {"anti": True},
}
DM = {  # name -> (w_mod, stim_mod)
    "dm1": ((1, 1), (True, False)),
    "dm2": ((1, 1), (False, True)),
    "ctxdm1": ((1, 0), (True, True)),
    "ctxdm2": ((0, 1), (True, True)),
    "multidm": ((1, 1), (True, True)),
}
DLYDM = {  # name -> (w_mod, stim_mod)
    "dlydm1": ((1, 1), (True, False)),
    "dlydm2": ((1, 1), (False, True)),
    "ctxdlydm1": ((1, 0), (True, True)),
    "ctxdlydm2": ((0, 1), (True, True)),
    "multidlydm": ((1, 1), (True, True)),
}
MATCH = {  # name -> (matchto, matchgo)
    "dms": ("sample", True),
    "dnms": ("sample", False),
    "dmc": ("category", True),
    "dnmc": ("category", False),
}
DM_COHS = (0.08, 0.16, 0.32, 0.64)
DLYDM_COHS = (0.3, 0.6, 1.0)
BASE_TASKS = (*REACH, *DM, *DLYDM, *MATCH)
DELAY_TASKS = ("dlygo", "dlyanti", *DLYDM, *MATCH)  # the tasks with a delay: int applies
DECISION_MS = {"reach": 500, "dm": 200, "dlydm": 200, "match": 900}  # seq: 1000 (rt: 500)
SEQ_DECISION_MS = 1000
DTS = (1, 2, 4, 5, 10, 20, 25, 50, 100)  # ms: every Mod-Cog duration is whole steps of these
LABELS = {
    "original": "class 0 off the decision, 1 + Mod-Cog's (i + 1) mod 16 on it (no-go: 1)",
    "clean": "ring index + 1 on the decision steps of go trials, 0 everywhere else",
}
MIXES = {
    "uniform": "each trial's task drawn uniformly",
    "round_robin": "trial b takes task (start + b) mod n, start drawn per batch",
    "per_batch": "one task per batch, drawn uniformly",
}
MATCH_DELAYS = {
    "per_env": "the match tasks' delay drawn once per env from env_seed (the original)",
    "per_trial": "the match tasks' delay drawn per trial, U(200, 1200) ms",
}
N_IN, N_OUT = 33, 17


def split_name(name: str) -> tuple[str, int, int]:
    """(base task, seq, integrate) of a Mod-Cog task name: seq and integrate are +1 (r), -1
    (l) or 0; ValueError for a name outside ``MODCOG_TASKS``."""
    if name not in MODCOG_TASKS:
        raise ValueError(f"{name!r} is no Mod-Cog task: choose one of {list(MODCOG_TASKS)}")
    sign = {"r": 1, "l": -1}
    if name[-4:-1] == "seq":
        return name[:-4], sign[name[-1]], 0
    if name[-4:-1] == "int":
        return name[:-4], 0, sign[name[-1]]
    return name, 0, 0


def family(base: str) -> str:
    """The family of a base task: reach, dm, dlydm or match."""
    for label, names in (("reach", REACH), ("dm", DM), ("dlydm", DLYDM), ("match", MATCH)):
        if base in names:
            return label
    raise ValueError(f"{base!r} is no Mod-Cog base task: choose one of {BASE_TASKS}")


def decision_ms(name: str) -> int:
    """The decision period of a task in ms: the family's, 1000 for seq (500 for rt seq)."""
    base, seq, _ = split_name(name)
    if seq and not base.startswith("rt"):
        return SEQ_DECISION_MS
    return DECISION_MS[family(base)]


def match_delays(name: str, seed: int) -> list[float]:
    """The delays (ms, before rounding to steps) of a match task's two modality envs, drawn
    once from U(200, 1200) with ``seed`` and the task's name."""
    state = np.random.SeedSequence([seed, zlib.crc32(name.encode())]).generate_state(1)
    return [float(d) for d in np.random.RandomState(state).uniform(200, 1200, size=2)]


def make_modcog_env(name: str, *, dt: float = 100.0, match_delay: str = "per_env", seed: int = 0):
    """The neurogym env of Mod-Cog task ``name`` at ``dt`` (ms). ``match_delay`` and ``seed``:
    how the match tasks' delay is drawn (``MATCH_DELAYS``). Imports neurogym."""
    from rnnbook.tasks import modcog_envs as envs

    base, seq, integrate = split_name(name)
    kind, decision = family(base), decision_ms(name)
    if kind == "reach":
        return envs.two_modalities(
            lambda m: envs.Reach(
                dt, integrate=integrate, seq=seq, decision_ms=decision, modality=m, **REACH[base]
            )
        )
    if kind in ("dm", "dlydm"):
        w_mod, stim_mod = (DM | DLYDM)[base]
        return envs.DecisionMaking(
            dt,
            cohs=DM_COHS if kind == "dm" else DLYDM_COHS,
            w_mod=w_mod,
            stim_mod=stim_mod,
            delaycomparison=kind == "dlydm",
            integrate=integrate,
            seq=seq,
            decision_ms=decision,
        )
    matchto, matchgo = MATCH[base]
    delays = match_delays(name, seed) if match_delay == "per_env" else [None, None]
    return envs.two_modalities(
        lambda m: envs.DelayMatch(
            dt,
            matchto=matchto,
            matchgo=matchgo,
            integrate=integrate,
            seq=seq,
            decision_ms=decision,
            delay_ms=delays[m],
            modality=m,
        )
    )


def _names() -> list[str]:
    """The 82 task names in Mod-Cog's README order: base, int (r, l), seqr, seql."""
    ints = [f"{task}int{side}" for task in DELAY_TASKS for side in "rl"]
    return [
        *BASE_TASKS,
        *ints,
        *(f"{t}seqr" for t in BASE_TASKS),
        *(f"{t}seql" for t in BASE_TASKS),
    ]


# name -> constructor of its env: MODCOG_TASKS["dmsintr"](dt=100.0, match_delay=..., seed=...)
MODCOG_TASKS = types.MappingProxyType(
    {name: functools.partial(make_modcog_env, name) for name in _names()}
)


def relabel(record: TrialRecord, labels: str) -> TrialRecord:
    """A trial of a Mod-Cog env with the task's targets and decision period: the decision
    steps are those whose fixation input is < 0.5; targets by ``labels`` (``LABELS``); the
    ring index of the response at the first decision step into ``info["ground_truth"]``
    (-1 on a no-go trial)."""
    decision = record.inputs[:, 0] < 0.5  # [T]
    env_decision = record.steps("decision")
    go = bool(record.info.get("go", 1))
    gt = record.targets  # Mod-Cog's Y: (i + 1) mod 16 on go decisions, 0 elsewhere
    if labels == "original":
        targets = np.where(decision, 1 + gt, 0)
    else:
        targets = np.where(env_decision & go, np.where(gt == 0, 16, gt), 0)
    names = record.names if "decision" in record.names else (*record.names, "decision")
    period = np.where(decision, names.index("decision"), record.period)
    first = int(np.argmax(env_decision))
    ground_truth = int((gt[first] - 1) % 16) if go and env_decision.any() else -1
    return replace(
        record,
        targets=targets.astype(np.int64),
        period=period,
        names=names,
        info=record.info | {"ground_truth": ground_truth},
    )


@dataclass(frozen=True)
class ModCogConfig(TaskConfig):
    """Some of the 82 Mod-Cog tasks as one task (see the module docstring)."""

    dt: float = 100.0  # ms: one of DTS (Mod-Cog's is 100)
    tasks: tuple[str, ...] = ("dm1",)  # names in MODCOG_TASKS, each trial from one of them
    labels: str = "original"  # target convention: "original" (seed 000) | "clean"
    mix: str = "uniform"  # how trials pick their task: "uniform" | "round_robin" | "per_batch"
    loss_on: str = "decision"  # where the mask is 1: "decision" | "trial"
    match_delay: str = "per_env"  # the match tasks' delay: "per_env" (original) | "per_trial"
    env_seed: int = 0  # the seed of the per-env draws (the match delay)
    pool: int = 0  # > 0: each task serves a fixed pool of this many trials
    pool_seed: int = 7  # the seed the pools are made from (seed 000's cache seed)
    pool_part: str = "all"  # the part of each pool drawn from: "all" | "train" | "val"
    val_frac: float = 0.1  # the fraction of each pool held out as "val"

    def __post_init__(self):
        super().__post_init__()
        if float(self.dt) not in DTS:
            raise ValueError(
                f"{field_name(self, 'dt')} = {self.dt!r} is not allowed: choose one of {DTS} "
                "(ms: Mod-Cog's durations are multiples of 100 ms; dt = 100 is Mod-Cog's)"
            )
        self._check_tasks()
        check_choice(self, "labels", LABELS)
        check_choice(self, "mix", MIXES)
        check_choice(self, "match_delay", MATCH_DELAYS)
        check_integer(self, "env_seed", minimum=0)
        check_pool_fields(self)

    def _check_tasks(self) -> None:
        given = self.tasks
        name = field_name(self, "tasks")
        want = "want a list of one or more different Mod-Cog task names (MODCOG_TASKS)"
        if not isinstance(given, (tuple, list)) or not given:
            raise ValueError(f"{name} = {given!r} is not allowed: {want}")
        unknown = [t for t in given if not isinstance(t, str) or t not in MODCOG_TASKS]
        if unknown:
            raise ValueError(
                f"{name} = {given!r} is not allowed: {unknown!r} are no Mod-Cog tasks; {want}: "
                f"choose from {list(MODCOG_TASKS)}"
            )
        if len(set(given)) < len(given):
            raise ValueError(f"{name} = {given!r} is not allowed: a task is repeated; {want}")
        object.__setattr__(self, "tasks", tuple(given))


class ModCog(EnvTask):
    """Mod-Cog tasks (``config.tasks``) as one single-head task: inputs [B, T, 33], targets
    [B, T] in 0..16 by ``labels``, mask by ``loss_on``, periods of each trial's env with the
    decision where the fixation input is < 0.5; conditions ``task``, ``ground_truth`` and the
    env's trial numbers. Accuracy: decision-step accuracy (``EnvTask.accuracy``)."""

    config_class: ClassVar[type[TaskConfig]] = ModCogConfig
    name = "modcog"

    def build_envs(self) -> list[tuple[str, Any]]:
        cfg = self.config
        return [
            (task, make_modcog_env(task, dt=cfg.dt, match_delay=cfg.match_delay, seed=cfg.env_seed))
            for task in cfg.tasks
        ]

    def sources(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """[B] each trial's task (index into ``config.tasks``), by ``config.mix``."""
        n = len(self.config.tasks)
        if self.config.mix == "uniform":
            return torch.randint(n, (batch_size,), generator=generator)
        start = torch.randint(n, (1,), generator=generator)
        if self.config.mix == "per_batch":
            return start.expand(batch_size).clone()
        return (start + torch.arange(batch_size)) % n

    def relabel(self, record: TrialRecord) -> TrialRecord:
        return relabel(record, self.config.labels)

    def add_conditions(self, trials: Trials, sources: torch.Tensor) -> Trials:
        trials.conditions["task"] = sources.clone()
        return trials


__all__ = [
    "BASE_TASKS",
    "DELAY_TASKS",
    "MODCOG_TASKS",
    "ModCog",
    "ModCogConfig",
    "decision_ms",
    "make_modcog_env",
    "relabel",
    "split_name",
]
