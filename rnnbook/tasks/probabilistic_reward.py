"""A two-armed bandit whose reward probabilities drift: learning under volatility.

Each arm's reward probability starts at ``initial_probs`` = (0.7, 0.3) and from trial 1 on takes
an independent Gaussian step of SD ``volatility`` = 0.02 per trial, clipped to ``bounds`` =
[0.2, 0.8] after each step (the original code's ``ProbabilisticRewardTask``). The scripted
agent (open loop) chooses with a softmax of the true probabilities, ``P(a) ∝ exp(agent_beta
p_a)`` with ``agent_beta`` = 3. Target (soft): ``p / (p_0 + p_1)``. Inputs ``[a_{t-1}, 0,
r_{t-1}]`` (no state: 0), ``[0.5, 0, 0.5]`` on trial 0.

Extension, off by default (``volatility_blocks = True``): the seed README promises "volatility
blocks with sudden changes", which the original code lacks. Blocks of ``block_trials`` trials
alternate, stable first, then volatile; in a volatile block the walk's SD is ``volatile_sd``,
and at the start of each volatile block both probabilities jump to their mirror images in the
bounds (``p -> low + high - p``: the better arm becomes the worse). Condition ``volatile``
([B, T] bool) marks the volatile trials (all False without the extension).

References: the seed ``../shared/seeds/004``; the original code's rules in
``../shared/specs/seed004.md`` section 4.3; stable and volatile blocks after Behrens, Woolrich,
Walton & Rushworth (2007), Nat. Neurosci. 10:1214.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnbook.tasks.sessions import (
    MAX_TRIALS,
    Outcome,
    SessionConfig,
    SessionTask,
    World,
    check_pair,
    check_probs,
    clipped_walk,
)
from rnnbook.validation import check_integer, check_range, check_type, field_name


@dataclass(frozen=True)
class ProbabilisticRewardConfig(SessionConfig):
    initial_probs: tuple[float, float] = (0.7, 0.3)  # reward probabilities of arms 0, 1 on trial 0
    volatility: float = 0.02  # SD of the per-trial Gaussian step of each probability
    bounds: tuple[float, float] = (0.2, 0.8)  # (low, high): each step is clipped to these
    agent_beta: float = 3.0  # inverse temperature of the scripted agent's softmax
    volatility_blocks: bool = False  # extension: alternate stable and volatile blocks
    block_trials: int = 50  # extension: trials per block
    volatile_sd: float = 0.08  # extension: SD of the step in volatile blocks

    def __post_init__(self):
        super().__post_init__()
        check_pair(self, "bounds", 0.0, 1.0)
        check_probs(self, "initial_probs", "bounds")
        for name in ("volatility", "volatile_sd"):
            check_range(self, name, 0.0, 1.0)
        check_range(self, "agent_beta", -1e3, 1e3)
        check_type(self, "volatility_blocks", bool)
        check_integer(self, "block_trials", minimum=1)
        if self.block_trials > MAX_TRIALS:
            raise ValueError(
                f"{field_name(self, 'block_trials')} = {self.block_trials!r} is out of range: "
                f"allowed at most {MAX_TRIALS}"
            )


class ProbabilisticReward(SessionTask):
    """A drifting two-armed bandit in sessions: inputs ``[B, T, 3]``, soft targets ``[B, T, 2]``
    (the normalised reward probabilities), mask ``[B, T]`` ones. See the module docstring."""

    config_class = ProbabilisticRewardConfig
    name = "probabilistic_reward"
    first_state = 0.0

    def volatile(self) -> torch.Tensor:
        """[T] bool: the trials in volatile blocks (none without ``volatility_blocks``)."""
        t = torch.arange(self.config.n_trials)
        if not self.config.volatility_blocks:
            return torch.zeros_like(t, dtype=torch.bool)
        return (t // self.config.block_trials) % 2 == 1

    def world(self, batch_size: int, *, generator: torch.Generator) -> World:
        cfg, n_trials = self.config, self.config.n_trials
        volatile = self.volatile()  # [T]
        sd = torch.where(volatile, cfg.volatile_sd, cfg.volatility)  # [T]
        steps = sd[None, :, None] * torch.randn(batch_size, n_trials, 2, generator=generator)
        steps[:, 0] = 0.0  # trial 0 has the initial probabilities
        # each volatile block starts with a jump to the mirror image: walk in the mirrored
        # frame (the clip is symmetric under it) and map back
        mirrored = (torch.cumsum((volatile[1:] & ~volatile[:-1]).long(), 0) % 2).bool()
        mirrored = torch.cat([torch.zeros(1, dtype=torch.bool), mirrored])  # [T]
        sign = torch.where(mirrored, -1.0, 1.0)[None, :, None]
        start = torch.tensor(cfg.initial_probs).expand(batch_size, 2)
        frame = clipped_walk(start, sign * steps, *cfg.bounds)  # [B, T, 2]
        low, high = cfg.bounds
        probs = torch.where(mirrored[None, :, None], low + high - frame, frame)
        return World(
            reward_probs=probs,
            reward_draws=torch.rand(batch_size, n_trials, generator=generator),
            conditions={"volatile": volatile.expand(batch_size, n_trials).clone()},
        )

    def agent_probs(self, world: World, *, generator: torch.Generator) -> torch.Tensor:
        """[B, T, 2] the softmax of ``agent_beta`` times the reward probabilities."""
        return torch.softmax(self.config.agent_beta * world.reward_probs, dim=-1)

    def soft_targets(self, world: World) -> torch.Tensor:
        """[B, T, 2] the reward probabilities normalised to sum 1 (0.5 each when both are 0)."""
        probs = world.reward_probs
        total = probs.sum(-1, keepdim=True)
        return torch.where(total > 0, probs / total.clamp_min(1e-30), 0.5)

    def state_inputs(self, outcome: Outcome) -> torch.Tensor:
        """[B, T] zeros: the original feeds no state in this task."""
        return torch.zeros(outcome.states.shape)
