"""Probabilistic reversal learning: two arms, one rewarded with p = 0.8 and the other with 0.2,
whose roles swap from time to time.

Each session starts with arm 0 better. As in the original code (Development_RNN's
``ReversalLearningTask``), once at least ``min_trials_before_reversal`` = 20 trials have passed
since the last reversal, the arms swap with probability ``hazard`` = 0.03 per trial
(``rule = "hazard"``): consecutive reversals are at least 20 trials apart, and the interval is
``19 + G`` with G geometric on {1, 2, ...} with mean 1 / 0.03, so its mean is 52.3 trials and
its median 42. The seed README's "contingencies reverse every 20-40 trials" is
``rule = "uniform"``: intervals drawn uniformly from the integers in ``interval_range``. A
reversal recorded on trial rho (``conditions["reversal"][b, rho]``) takes effect from trial
rho + 1: the target of trial rho still names the old better arm.

The scripted agent (open loop) chooses at random on trial 0 and then the better arm with
probability ``agent_p_better`` = 0.7. Inputs ``[a_{t-1}, 0.5, r_{t-1}]`` (no state: a constant
0.5); the target is the one-hot of the currently better arm. Conditions besides the session
ones: ``better_arm`` (long) and ``reversal`` (bool), each [B, T].

References: Ji-An, Benna & Mattar (2025), Nature, whose tasks the seed follows; the seed
``../shared/seeds/004``; its original code's rules in ``../shared/specs/seed004.md`` section 4.3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rnnbook.tasks.sessions import (
    MAX_TRIALS,
    Outcome,
    SessionConfig,
    SessionTask,
    World,
    check_pair,
)
from rnnbook.validation import check_choice, check_integer, check_range, field_name

RULES = {
    "hazard": "the original code: hazard per trial after a minimum run since the last reversal",
    "uniform": "the seed README: intervals uniform on the integers of interval_range",
}


@dataclass(frozen=True)
class ReversalLearningConfig(SessionConfig):
    p_better: float = 0.8  # reward probability of the better arm
    p_worse: float = 0.2  # reward probability of the worse arm
    rule: str = "hazard"  # when reversals happen: "hazard" (the code) | "uniform" (the README)
    min_trials_before_reversal: int = 20  # hazard rule: trials since the last reversal (>= 1)
    hazard: float = 0.03  # hazard rule: the probability of a reversal per eligible trial
    interval_range: tuple[int, int] = (20, 40)  # uniform rule: (shortest, longest) interval
    agent_p_better: float = 0.7  # the scripted agent's probability of choosing the better arm

    def __post_init__(self):
        super().__post_init__()
        for name in ("p_better", "p_worse", "agent_p_better"):
            check_range(self, name, 0.0, 1.0)
        check_choice(self, "rule", tuple(RULES))
        check_integer(self, "min_trials_before_reversal", minimum=1)
        if self.min_trials_before_reversal > MAX_TRIALS:
            name = field_name(self, "min_trials_before_reversal")
            raise ValueError(
                f"{name} = {self.min_trials_before_reversal!r} is out of range: allowed at most "
                f"{MAX_TRIALS}"
            )
        check_range(self, "hazard", 0.0, 1.0, closed="right")
        check_pair(self, "interval_range", 1, MAX_TRIALS, integer=True)

    @property
    def mean_interval(self) -> float:
        """The expected number of trials between consecutive reversals under ``rule``."""
        if self.rule == "uniform":
            return 0.5 * sum(self.interval_range)
        return self.min_trials_before_reversal - 1 + 1 / self.hazard


def reversal_intervals(
    config: ReversalLearningConfig, batch_size: int, n_intervals: int, *, generator
) -> torch.Tensor:
    """[B, n_intervals] trials between consecutive reversals (long, each >= 1), drawn by the
    config's ``rule``; the first counts from trial -1, so the first reversal is on trial
    ``interval - 1``."""
    shape = (batch_size, n_intervals)
    if config.rule == "uniform":
        low, high = config.interval_range
        return torch.randint(low, high + 1, shape, generator=generator)
    # hazard: min - 1 + G, G ~ Geometric(hazard) on {1, 2, ...}, drawn by inversion
    uniform = 1.0 - torch.rand(shape, generator=generator, dtype=torch.float64)  # (0, 1]
    log_stay = math.log1p(-config.hazard) if config.hazard < 1 else -math.inf
    geometric = 1 + torch.floor(torch.log(uniform) / log_stay)
    geometric = geometric.clamp(max=MAX_TRIALS + 1).long()  # beyond any session
    return config.min_trials_before_reversal - 1 + geometric


class ReversalLearning(SessionTask):
    """Two-armed reversal learning in sessions: inputs ``[B, T, 3]``, targets ``[B, T, 2]``
    (one-hot of the better arm), mask ``[B, T]`` ones. See the module docstring."""

    config_class = ReversalLearningConfig
    name = "reversal_learning"

    def world(self, batch_size: int, *, generator: torch.Generator) -> World:
        cfg, n_trials = self.config, self.config.n_trials
        uniform = cfg.rule == "uniform"
        shortest = cfg.interval_range[0] if uniform else cfg.min_trials_before_reversal
        n_intervals = n_trials // shortest + 2  # enough to pass the end of every session
        intervals = reversal_intervals(cfg, batch_size, n_intervals, generator=generator)
        points = intervals.cumsum(1) - 1  # [B, n_intervals] the reversal trials
        inside = points < n_trials
        where = points.clamp(max=n_trials)  # column n_trials collects the points outside
        reversal = torch.zeros(batch_size, n_trials + 1, dtype=torch.bool)
        reversal.scatter_(1, where, inside)
        flips = torch.cat([torch.zeros(batch_size, 1, dtype=torch.long), reversal.long()], 1)
        better = flips[:, :n_trials].cumsum(1) % 2  # [B, T] arm 0 first; flips after rho
        is_better = torch.stack([better == 0, better == 1], dim=2)  # [B, T, 2]
        probs = torch.where(is_better, cfg.p_better, cfg.p_worse)
        return World(
            reward_probs=probs,
            reward_draws=torch.rand(batch_size, n_trials, generator=generator),
            conditions={"better_arm": better, "reversal": reversal[:, :n_trials]},
        )

    def agent_probs(self, world: World, *, generator: torch.Generator) -> torch.Tensor:
        """[B, T, 2]: 0.5 each on trial 0, then ``agent_p_better`` on the better arm."""
        better = world.conditions["better_arm"]
        p_one = torch.where(better == 1, self.config.agent_p_better, 1 - self.config.agent_p_better)
        p_one[:, 0] = 0.5
        return torch.stack([1 - p_one, p_one], dim=2)

    def soft_targets(self, world: World) -> torch.Tensor:
        """[B, T, 2] the one-hot of the better arm."""
        return torch.nn.functional.one_hot(world.conditions["better_arm"], 2).float()

    def state_inputs(self, outcome: Outcome) -> torch.Tensor:
        """[B, T] a constant 0.5: the original feeds no state in this task."""
        return torch.full(outcome.states.shape, 0.5)
