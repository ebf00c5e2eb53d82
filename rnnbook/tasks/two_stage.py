"""The two-stage (two-step) task: a first-stage choice leads, by a common or a rare transition,
to one of two second-stage states, each rewarded with a slowly drifting probability.

Action 0 reaches state 0 and action 1 state 1 with probability ``common_prob`` (the common
transition), else the other state (rare). Each state's reward probability starts at
``initial_probs`` and from trial 1 on takes a Gaussian step of SD ``drift_sd`` per trial, kept
in ``bounds``. Model-free learners repeat rewarded choices whatever the transition; model-based
learners credit the state, so after a rare transition they switch when rewarded and stay when
not: the reward x transition interaction of stay probabilities (``rnnbook.analysis.two_step``).

Two versions:

- the original code's (the default): ``common_prob = 0.8`` and the drift **clipped** to
  [0.25, 0.75] after each step (``walk = "clip"``);
- Daw et al. (2011), as tinyRNN's ``Orig_two_step`` renders it on two second-stage arms
  (:meth:`TwoStageConfig.daw2011`): ``common_prob = 0.7`` and walks **reflected** at the bounds
  (``walk = "reflect"``). Daw's task has two options in each second-stage state; the inputs
  here carry no second-stage choice, so each state has one reward probability, as in the
  original code and in tinyRNN.

Target (soft): the expected reward of each action, ``EV_a = c p[a] + (1 - c) p[1 - a]``,
normalised to sum 1. The scripted agent (open loop) chooses at random with probability
``random_prob`` = 0.3 and otherwise the action of larger EV (action 0 on ties). Inputs
``[a_{t-1}, s_{t-1}, r_{t-1}]``, ``[0.5, 0.5, 0.5]`` on trial 0. The session conditions hold
``transition`` (0 common, 1 rare), ``state``, ``reward`` and ``reward_probs`` (of each state).

References: Daw, Gershman, Seymour, Dayan & Dolan (2011), Neuron 69:1204; Ji-An, Benna &
Mattar (2025), Nature; the original code's rules: ``../shared/specs/seed004.md`` section 4.3.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from rnnbook.tasks.sessions import (
    SessionConfig,
    SessionTask,
    World,
    check_pair,
    check_probs,
    clipped_walk,
    reflected_walk,
)
from rnnbook.validation import check_choice, check_range

WALKS = {"clip": clipped_walk, "reflect": reflected_walk}


@dataclass(frozen=True)
class TwoStageConfig(SessionConfig):
    common_prob: float = 0.8  # probability of the common transition (Daw 2011: 0.7)
    drift_sd: float = 0.025  # SD of the per-trial Gaussian step of each reward probability
    bounds: tuple[float, float] = (0.25, 0.75)  # (low, high) of the reward probabilities
    walk: str = "clip"  # at the bounds: "clip" (the original code) | "reflect" (Daw 2011)
    initial_probs: tuple[float, float] = (0.5, 0.5)  # states 0, 1: reward probabilities on trial 0
    random_prob: float = 0.3  # the scripted agent's probability of a random choice

    def __post_init__(self):
        super().__post_init__()
        check_range(self, "common_prob", 0.0, 1.0)
        check_range(self, "drift_sd", 0.0, 1.0)
        check_pair(self, "bounds", 0.0, 1.0)
        check_choice(self, "walk", tuple(WALKS))
        check_probs(self, "initial_probs", "bounds")
        check_range(self, "random_prob", 0.0, 1.0)

    @classmethod
    def daw2011(cls, **changes) -> TwoStageConfig:
        """Daw et al. (2011)'s rules on two arms: common 0.7, reflecting walks in [0.25, 0.75]."""
        return dataclasses.replace(cls(common_prob=0.7, walk="reflect"), **changes)


class TwoStage(SessionTask):
    """The two-stage task in sessions: inputs ``[B, T, 3]``, soft targets ``[B, T, 2]`` (the
    normalised expected reward of each action), mask ``[B, T]`` ones. See the module docstring.
    """

    config_class = TwoStageConfig
    name = "two_stage"

    def world(self, batch_size: int, *, generator: torch.Generator) -> World:
        cfg, n_trials = self.config, self.config.n_trials
        steps = cfg.drift_sd * torch.randn(batch_size, n_trials, 2, generator=generator)
        steps[:, 0] = 0.0  # trial 0 has the initial probabilities
        start = torch.tensor(cfg.initial_probs).expand(batch_size, 2)
        probs = WALKS[cfg.walk](start, steps, *cfg.bounds)  # [B, T, 2]
        return World(
            reward_probs=probs,
            reward_draws=torch.rand(batch_size, n_trials, generator=generator),
            common_draws=torch.rand(batch_size, n_trials, generator=generator),
            common_prob=cfg.common_prob,
        )

    def expected_rewards(self, reward_probs: torch.Tensor) -> torch.Tensor:
        """[B, T, 2] each action's expected reward from the states' ``reward_probs`` [B, T, 2]:
        ``EV_a = c p[a] + (1 - c) p[1 - a]``."""
        c = self.config.common_prob
        return c * reward_probs + (1 - c) * reward_probs.flip(-1)

    def agent_probs(self, world: World, *, generator: torch.Generator) -> torch.Tensor:
        """[B, T, 2]: ``random_prob / 2`` on each action plus the rest on the larger EV."""
        best = self.expected_rewards(world.reward_probs).argmax(-1)  # [B, T], ties: action 0
        greedy = torch.nn.functional.one_hot(best, 2).float()
        return 0.5 * self.config.random_prob + (1 - self.config.random_prob) * greedy

    def soft_targets(self, world: World) -> torch.Tensor:
        """[B, T, 2] the expected rewards normalised to sum 1 (0.5 each when both are 0)."""
        values = self.expected_rewards(world.reward_probs)
        total = values.sum(-1, keepdim=True)
        return torch.where(total > 0, values / total.clamp_min(1e-30), 0.5)
