"""Sessions of discrete trials: the base of the learning tasks of seed 004 (reversal learning,
two-stage, probabilistic reward), where one time step is one trial.

A session is ``n_trials`` trials of a two-choice task. Its randomness that does not depend on
the choices (the reward probabilities of each trial, the uniform draws that decide rewards and
transitions) is a :class:`World`; a scripted agent makes the choices, and the world gives each
choice its outcome. The network sees the previous trial, ``inputs[:, t] = [a_{t-1}, s_{t-1},
r_{t-1}]`` (action, second-stage state, reward), and ``[0.5, first_state, 0.5]`` on trial 0;
its ``targets[:, t]`` ([B, T, 2], soft targets summing to 1) say which action is worth taking
on trial ``t``. Every trial is judged: the mask is 1 everywhere and ``periods = {"trial": all
True}``. As in the original (Development_RNN's ``cognitive_tasks.py``), the actions come from
the task's own scripted agent (open loop), not from the network; ``bandit_agents`` runs
closed-loop learning agents on the same worlds.

Sessions are fresh on every ``sample`` (``n_sessions = 0``), or drawn from a fixed dataset of
``n_sessions`` sessions made from ``pool_seed`` and permuted once into train / validation /
test parts (the original's 70 / 15 / 15 % split of sessions): ``split`` picks the part a task
draws from, and a task on ``split = "train"`` validates on ``"val"`` (:meth:`held_out`).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import torch

from rnnbook.tasks.base import Task, TaskConfig, Trials
from rnnbook.validation import (
    check_choice,
    check_integer,
    check_range,
    coerce_tuple,
    field_name,
    is_number,
)

MAX_TRIALS = 10**6  # the most trials a session may have
MAX_POOL_TRIALS = 10**7  # the most trials a fixed dataset may hold (n_sessions * n_trials)
SPLITS = ("all", "train", "val", "test")


@dataclass(frozen=True)
class SessionConfig(TaskConfig):
    """Fields shared by the session tasks (see the module docstring)."""

    dt: float = 1.0  # nominal step (ms): one step is one trial (a model's alpha = dt / tau)
    n_trials: int = 200  # trials per session (the original dataset's default; its study: 150)
    n_sessions: int = 0  # 0: fresh sessions on every sample; > 0: a fixed dataset this large
    pool_seed: int = 42  # the seed the fixed dataset and its split are made from
    split: str = "all"  # the part of the dataset drawn from: "all" | "train" | "val" | "test"
    val_frac: float = 0.15  # fraction of the dataset's sessions held out for validation
    test_frac: float = 0.15  # fraction held out for testing

    def __post_init__(self):
        super().__post_init__()
        check_integer(self, "n_trials", minimum=1)
        if self.n_trials > MAX_TRIALS:
            raise ValueError(
                f"{field_name(self, 'n_trials')} = {self.n_trials!r} is out of range: allowed at "
                f"most {MAX_TRIALS}"
            )
        check_integer(self, "n_sessions", minimum=0)
        if self.n_sessions * self.n_trials > MAX_POOL_TRIALS:
            raise ValueError(
                f"{field_name(self, 'n_sessions')} = {self.n_sessions!r} is out of range with "
                f"{field_name(self, 'n_trials')} = {self.n_trials!r}: allowed n_sessions * "
                f"n_trials <= {MAX_POOL_TRIALS}"
            )
        check_integer(self, "pool_seed", minimum=0)
        check_choice(self, "split", SPLITS)
        check_range(self, "val_frac", 0.0, 1.0, closed="left")
        check_range(self, "test_frac", 0.0, 1.0, closed="left")
        if self.val_frac + self.test_frac >= 1:
            raise ValueError(
                f"{field_name(self, 'val_frac')} = {self.val_frac!r} and "
                f"{field_name(self, 'test_frac')} = {self.test_frac!r} are out of range: want "
                "val_frac + test_frac < 1 (sessions left to train on)"
            )
        self._check_split()

    @property
    def trial_ms(self) -> float:
        """The length of a session in ms (``n_trials`` steps of ``dt``)."""
        return self.n_trials * self.dt

    def split_sizes(self) -> dict[str, int]:
        """Sessions in each part of the fixed dataset: train, val, test (and all)."""
        n = self.n_sessions
        n_val, n_test = round(self.val_frac * n), round(self.test_frac * n)
        return {"all": n, "train": n - n_val - n_test, "val": n_val, "test": n_test}

    def with_split_all(self) -> SessionConfig:
        """The same config drawing from the whole dataset (the key of the shared dataset)."""
        return dataclasses.replace(self, split="all")

    def _check_split(self) -> None:
        if self.split == "all":
            return
        size = self.split_sizes()[self.split]
        if size < 1:
            others = ", ".join(
                f"{field_name(self, name)} = {getattr(self, name)!r}"
                for name in ("n_sessions", "val_frac", "test_frac")
            )
            raise ValueError(
                f"{field_name(self, 'split')} = {self.split!r} is not allowed with {others}: that "
                "part holds no session; want more sessions (n_sessions > 0) or split = 'all'"
            )


def check_pair(obj, field: str, low: float, high: float, *, integer: bool = False) -> tuple:
    """Raise ValueError unless obj.field is two ordered numbers ``(a, b)``, low <= a <= b <= high
    (integers when ``integer``); a list becomes a tuple. Returns the pair."""
    coerce_tuple(obj, field)
    value = getattr(obj, field)
    kind = "integers" if integer else "numbers"
    ok = isinstance(value, tuple) and len(value) == 2 and all(is_number(v) for v in value)
    if ok and integer:
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if not ok:
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is not allowed: want two {kind} (a, b) with "
            f"{low} <= a <= b <= {high}"
        )
    if not low <= value[0] <= value[1] <= high:
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is out of range: want (a, b) with "
            f"{low} <= a <= b <= {high}"
        )
    return value


def check_probs(obj, field: str, bounds_field: str) -> tuple[float, float]:
    """Raise ValueError, naming both fields, unless obj.field is two numbers, each within the
    (checked) pair ``obj.<bounds_field>`` (e.g. the reward probabilities of trial 0 within the
    walk's bounds); stored and returned as a float tuple."""
    value, (low, high) = getattr(obj, field), getattr(obj, bounds_field)
    ok = isinstance(value, (tuple, list)) and len(value) == 2
    if not (ok and all(is_number(p) for p in value)):
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is not allowed: want two numbers, each in "
            f"{field_name(obj, bounds_field)} = {(low, high)!r}"
        )
    if not all(low <= p <= high for p in value):
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is out of range with "
            f"{field_name(obj, bounds_field)} = {(low, high)!r}: want each in [{low}, {high}]"
        )
    pair = (float(value[0]), float(value[1]))
    object.__setattr__(obj, field, pair)
    return pair


@dataclass
class Outcome:
    """What the world answers to choices, each [B, k] for k trials: ``states`` (the second-stage
    state, long; a bandit's state is the chosen arm), ``rewards`` (float 0/1) and
    ``transitions`` (long: 0 common, 1 rare; all 0 in a bandit)."""

    states: torch.Tensor
    rewards: torch.Tensor
    transitions: torch.Tensor


@dataclass
class World:
    """The choice-independent randomness of a batch of sessions.

    reward_probs:  [B, T, 2] the reward probability of each second-stage state on each trial
                   (a bandit: of each arm).
    reward_draws:  [B, T] uniforms in [0, 1): a trial is rewarded when its draw < the
                   reward probability of the state reached.
    common_draws:  [B, T] uniforms, or None in a bandit: action a reaches state a (the common
                   transition) when its draw < ``common_prob``, else state 1 - a.
    common_prob:   the probability of the common transition (1 in a bandit).
    conditions:    the task's own per-trial records, each [B, T, ...] (e.g. reversal points).
    """

    reward_probs: torch.Tensor
    reward_draws: torch.Tensor
    common_draws: torch.Tensor | None = None
    common_prob: float = 1.0
    conditions: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def n_trials(self) -> int:
        return self.reward_draws.shape[1]

    def outcome(self, actions: torch.Tensor, start: int = 0) -> Outcome:
        """The outcome of ``actions`` [B, k] (long, 0/1) on trials ``start .. start + k - 1``."""
        steps = slice(start, start + actions.shape[1])
        if self.common_draws is None:
            transitions = torch.zeros_like(actions)
        else:
            transitions = (self.common_draws[:, steps] >= self.common_prob).long()
        states = actions ^ transitions  # a rare transition reaches the other state
        probs = self.reward_probs[:, steps].gather(2, states[..., None])[..., 0]  # [B, k]
        rewards = (self.reward_draws[:, steps] < probs).float()
        return Outcome(states=states, rewards=rewards, transitions=transitions)


def session_inputs(
    actions: torch.Tensor, states: torch.Tensor, rewards: torch.Tensor, *, first_state: float
) -> torch.Tensor:
    """[B, T, 3] inputs ``[a_{t-1}, s_{t-1}, r_{t-1}]`` from the trials' actions, state inputs
    and rewards (each [B, T]); trial 0 gets ``[0.5, first_state, 0.5]``."""
    previous = torch.stack([actions.float(), states.float(), rewards.float()], dim=2)  # [B, T, 3]
    first = torch.tensor([0.5, first_state, 0.5]).expand(actions.shape[0], 1, 3)
    return torch.cat([first, previous[:, :-1]], dim=1)


def clipped_walk(start: torch.Tensor, steps: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """A random walk clipped to [low, high] after every step: ``p_t = clip(p_{t-1} + steps_t)``.

    start: [B, K] values before the first step; steps: [B, T, K]. Returns [B, T, K].
    Vectorised over time: each step ``x -> clip(x + e, lo, hi)`` is a clamp of a shift, and
    clamps of shifts compose into one (``clip(clip(x + a, l, h) + b, l', h') = clip(x + a + b,
    clip(l + b, l', h'), clip(h + b, l', h'))``), so every prefix is found by a parallel scan of
    log2(T) rounds.
    """
    shift = steps.double()
    lo = torch.full_like(shift, low)
    hi = torch.full_like(shift, high)
    span = 1
    while span < shift.shape[1]:  # Hillis-Steele scan: prefix t absorbs prefix t - span
        a, lo_, hi_ = shift[:, :-span], lo[:, :-span], hi[:, :-span]
        b, lo_b, hi_b = shift[:, span:], lo[:, span:], hi[:, span:]
        new_lo = torch.minimum(torch.maximum(lo_ + b, lo_b), hi_b)
        new_hi = torch.minimum(torch.maximum(hi_ + b, lo_b), hi_b)
        shift = torch.cat([shift[:, :span], a + b], dim=1)
        lo = torch.cat([lo[:, :span], new_lo], dim=1)
        hi = torch.cat([hi[:, :span], new_hi], dim=1)
        span *= 2
    walk = torch.minimum(torch.maximum(start.double()[:, None] + shift, lo), hi)
    return walk.to(steps.dtype)


def reflected_walk(
    start: torch.Tensor, steps: torch.Tensor, low: float, high: float
) -> torch.Tensor:
    """A random walk reflected at ``low`` and ``high``: start [B, K], steps [B, T, K] -> [B, T, K].

    The free walk folded into [low, high] (a triangle wave). Each trial's value is the previous
    one moved by ``+-steps_t`` and reflected at the bounds (``x -> 2 high - x`` above, ``2 low -
    x`` below; the sign turns at each reflection), so for steps symmetric about 0 (Gaussian) it
    is, in law, the walk reflected after each step, as Daw et al. (2011) drift their reward
    probabilities.
    """
    free = start.double()[:, None] + steps.double().cumsum(1)
    width = high - low
    if width == 0:
        return torch.full_like(steps, low)
    folded = torch.remainder(free - low, 2 * width)
    return (low + width - (folded - width).abs()).to(steps.dtype)


class SessionTask(Task):
    """A task whose ``Trials`` are sessions of discrete trials, one step per trial.

    Inputs ``[B, T, 3]`` (previous action, state, reward), targets ``[B, T, 2]`` (soft: each
    step sums to 1), mask ``[B, T]`` all ones, periods ``{"trial": all True}``. Conditions
    (each ``[B, T]`` unless said): ``action`` (long), ``reward`` (float 0/1), in tasks with
    second-stage states ``state`` (long) and ``transition`` (long, 0 common / 1 rare),
    ``reward_probs`` ``[B, T, 2]`` (of each state or arm), ``agent_probs``
    ``[B, T, 2]`` (the agent's choice probabilities), and each task's own (``World.conditions``).

    Subclasses implement :meth:`world`, :meth:`agent_probs` and :meth:`soft_targets`, and set
    ``first_state`` and :meth:`state_inputs`.
    """

    config_class = SessionConfig
    periods_tile_trial = True
    target_kind = "values"  # [B, T, 2] soft targets (probabilities)
    first_state = 0.5  # the state input of trial 0

    n_in = 3  # previous action, state, reward
    n_out = 2  # one logit per action

    def world(self, batch_size: int, *, generator: torch.Generator) -> World:
        raise NotImplementedError

    def agent_probs(self, world: World, *, generator: torch.Generator) -> torch.Tensor:
        """[B, T, 2] the task's scripted agent's choice probabilities on each trial."""
        raise NotImplementedError

    def soft_targets(self, world: World) -> torch.Tensor:
        """[B, T, 2] the targets: how much each action is worth on each trial, summing to 1."""
        raise NotImplementedError

    def state_inputs(self, outcome: Outcome) -> torch.Tensor:
        """[B, T] the state channel of the inputs (the state reached on each trial)."""
        return outcome.states.float()

    def sample(self, batch_size: int, *, generator: torch.Generator) -> Trials:
        """``batch_size`` sessions: fresh ones, or drawn uniformly from the dataset's ``split``."""
        if not self.config.n_sessions:
            return self.fresh(batch_size, generator=generator)
        part = self.split_indices()[self.config.split]
        picks = part[torch.randint(len(part), (batch_size,), generator=generator)]
        return take_sessions(self.dataset(), picks)

    def fresh(self, batch_size: int, *, generator: torch.Generator) -> Trials:
        """``batch_size`` new sessions with the task's scripted agent choosing."""
        world = self.world(batch_size, generator=generator)
        probs = self.agent_probs(world, generator=generator)  # [B, T, 2]
        draws = torch.rand(probs.shape[:2], generator=generator)
        actions = (draws < probs[..., 1]).long()  # [B, T]
        return self.trials_from(world, actions, probs)

    def trials_from(self, world: World, actions: torch.Tensor, agent_probs: torch.Tensor) -> Trials:
        """The Trials of sessions in ``world`` with ``actions`` [B, T] (long) chosen with
        probabilities ``agent_probs`` [B, T, 2]."""
        outcome = world.outcome(actions)
        inputs = session_inputs(
            actions, self.state_inputs(outcome), outcome.rewards, first_state=self.first_state
        )
        ones = torch.ones(actions.shape, dtype=torch.bool)
        conditions = {"action": actions, "reward": outcome.rewards}
        if world.common_draws is not None:  # a task with second-stage states
            conditions |= {"state": outcome.states, "transition": outcome.transitions}
        conditions |= {"reward_probs": world.reward_probs, "agent_probs": agent_probs.float()}
        return Trials(
            inputs=inputs,
            targets=self.soft_targets(world).float(),
            mask=ones.float(),
            conditions=conditions | world.conditions,
            dt=self.dt,
            periods={"trial": ones},
        )

    def dataset(self) -> Trials:
        """The whole fixed dataset (``n_sessions`` sessions from ``pool_seed``), in the order it
        was made; :meth:`split_indices` says which sessions form each part."""
        if not self.config.n_sessions:
            raise ValueError(f"{type(self).__name__} has no fixed dataset: n_sessions = 0")
        return _dataset(type(self), self.config.with_split_all())

    def split_indices(self) -> dict[str, torch.Tensor]:
        """Indices into :meth:`dataset` of each part (a seeded permutation cut 70/15/15 by
        default): ``train``, ``val``, ``test`` and ``all``, each a LongTensor."""
        sizes = self.config.split_sizes()
        generator = torch.Generator().manual_seed(self.config.pool_seed + 1)
        order = torch.randperm(sizes["all"], generator=generator)
        n_train, n_val = sizes["train"], sizes["val"]
        return {
            "all": torch.arange(sizes["all"]),
            "train": order[:n_train],
            "val": order[n_train : n_train + n_val],
            "test": order[n_train + n_val :],
        }

    def sessions(self) -> Trials:
        """Every session of the dataset's ``split``, in split order (e.g. the whole validation
        set); fresh tasks (``n_sessions = 0``) have none."""
        return take_sessions(self.dataset(), self.split_indices()[self.config.split])

    def held_out(self) -> Task:
        """The validation part when this task draws from the training part; else itself."""
        if self.config.n_sessions and self.config.split == "train":
            return self.with_config(split="val")
        return self

    def accuracy(self, outputs: torch.Tensor, trials: Trials) -> torch.Tensor:
        """The fraction of trials whose largest output is the largest target (the original's
        ``argmax(logits) == argmax(target)``; ties go to action 0): outputs [B, T, 2]."""
        hits = (outputs.argmax(-1) == trials.targets.to(outputs.device).argmax(-1)).float()
        mask = trials.mask.to(outputs.device)
        return (hits * mask).sum() / mask.sum().clamp_min(1)


def take_sessions(trials: Trials, index: torch.Tensor) -> Trials:
    """The sessions ``index`` [k] of ``trials`` (every tensor indexed on its batch axis)."""
    return Trials(
        inputs=trials.inputs[index],
        targets=trials.targets[index],
        mask=trials.mask[index],
        conditions={k: v[index] for k, v in trials.conditions.items()},
        dt=trials.dt,
        periods={k: v[index] for k, v in trials.periods.items()},
    )


@functools.lru_cache(maxsize=8)
def _dataset(task_class: type[SessionTask], config: SessionConfig) -> Trials:
    """The fixed dataset of ``config`` (cached: every task of one config shares it)."""
    generator = torch.Generator().manual_seed(config.pool_seed)
    return task_class(config).fresh(config.n_sessions, generator=generator)
