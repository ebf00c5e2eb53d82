"""Scripted learning agents that play the session tasks closed loop, for known answers.

A session task's own ``sample`` uses the original code's open-loop scripted agent (its choices
do not depend on what it has seen). The agents here learn from their outcomes, so their choices
carry the signatures the two-step and reversal analyses look for:

- :class:`ModelFreeAgent`: first-stage action values updated by the reward alone (TD(1), i.e.
  Rescorla-Wagner on the chosen action), whatever the transition: it repeats rewarded choices
  after common and rare transitions alike (a reward main effect, no reward x transition
  interaction). With ``alpha = 0.3, beta = 5`` it is the original's Rescorla-Wagner baseline of
  reversal learning (``compute_optimal_policy``).
- :class:`ModelBasedAgent`: learns the value of each second-stage state and plans through the
  known transition probabilities, ``Q(a) = c V(a) + (1 - c) V(1 - a)``: a reward after a rare
  transition makes it switch (a positive reward x transition interaction).
- :class:`RandomAgent`: a coin flip on every trial (all stay probabilities 0.5).

Every agent chooses with a softmax of inverse temperature ``beta``. :func:`run_agent` plays an
agent on fresh sessions of a task (the task's own reward probabilities and draws) and returns
the task's ``Trials``, with the agent's choice probabilities in ``conditions["agent_probs"]``.

References: Daw, Gershman, Seymour, Dayan & Dolan (2011), Neuron 69:1204 (the model-free and
model-based learners of the two-step task); Rescorla & Wagner (1972).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnbook.tasks.base import Trials
from rnnbook.tasks.sessions import SessionTask
from rnnbook.validation import check_range


def _check_learner(agent) -> None:
    check_range(agent, "alpha", 0.0, 1.0)
    check_range(agent, "beta", -1e3, 1e3)
    check_range(agent, "initial_value", 0.0, 1.0)


@dataclass(frozen=True)
class RandomAgent:
    """Chooses each action with probability 0.5 on every trial."""

    def start(self, batch_size: int) -> torch.Tensor:
        """[B, 0]: no memory."""
        return torch.zeros(batch_size, 0)

    def probs(self, memory: torch.Tensor) -> torch.Tensor:
        """[B, 2] choice probabilities."""
        return torch.full((memory.shape[0], 2), 0.5)

    def update(self, memory, actions, states, rewards) -> torch.Tensor:
        return memory


@dataclass(frozen=True)
class ModelFreeAgent:
    """TD(1) / Rescorla-Wagner on the first-stage actions: ``Q(a) += alpha (r - Q(a))`` for the
    chosen action, ``P(a) ∝ exp(beta Q(a))``."""

    alpha: float = 0.5  # learning rate
    beta: float = 5.0  # inverse temperature of the softmax
    initial_value: float = 0.5  # Q of both actions before the first trial

    def __post_init__(self):
        _check_learner(self)

    def start(self, batch_size: int) -> torch.Tensor:
        """[B, 2] the action values before the first trial."""
        return torch.full((batch_size, 2), float(self.initial_value))

    def probs(self, memory: torch.Tensor) -> torch.Tensor:
        """[B, 2] choice probabilities from the action values [B, 2]."""
        return torch.softmax(self.beta * memory, dim=-1)

    def update(self, memory, actions, states, rewards) -> torch.Tensor:
        """The values [B, 2] after choosing ``actions`` [B] and getting ``rewards`` [B] (the
        states reached play no part)."""
        return _learn(memory, actions, rewards, self.alpha)


@dataclass(frozen=True)
class ModelBasedAgent:
    """Learns each second-stage state's value, ``V(s) += alpha (r - V(s))`` for the state
    reached, and chooses by ``Q(a) = c V(a) + (1 - c) V(1 - a)`` with the known probability
    ``c = common_prob`` that action a reaches state a; ``P(a) ∝ exp(beta Q(a))``."""

    alpha: float = 0.5  # learning rate
    beta: float = 5.0  # inverse temperature of the softmax
    initial_value: float = 0.5  # V of both states before the first trial
    common_prob: float = 0.8  # the transition probability the agent plans with

    def __post_init__(self):
        _check_learner(self)
        check_range(self, "common_prob", 0.0, 1.0)

    def start(self, batch_size: int) -> torch.Tensor:
        """[B, 2] the state values before the first trial."""
        return torch.full((batch_size, 2), float(self.initial_value))

    def probs(self, memory: torch.Tensor) -> torch.Tensor:
        """[B, 2] choice probabilities from the state values [B, 2]."""
        c = self.common_prob
        planned = c * memory + (1 - c) * memory.flip(-1)  # [B, 2] action values
        return torch.softmax(self.beta * planned, dim=-1)

    def update(self, memory, actions, states, rewards) -> torch.Tensor:
        """The state values [B, 2] after reaching ``states`` [B] and getting ``rewards`` [B]."""
        return _learn(memory, states, rewards, self.alpha)


def _learn(values: torch.Tensor, chosen: torch.Tensor, rewards: torch.Tensor, alpha: float):
    """``values`` [B, 2] with entry ``chosen`` [B] moved by ``alpha`` towards ``rewards`` [B]."""
    old = values.gather(1, chosen[:, None])[:, 0]
    return values.scatter(1, chosen[:, None], (old + alpha * (rewards - old))[:, None])


def run_agent(task: SessionTask, agent, batch_size: int, *, generator: torch.Generator) -> Trials:
    """``batch_size`` fresh sessions of ``task`` played closed loop by ``agent``.

    The world (reward probabilities, reward and transition draws) comes from ``task.world``;
    on each trial the agent chooses from its probabilities, sees the state and reward and
    learns. Returns the task's Trials (inputs [B, T, 3], targets [B, T, 2], ...) with the
    agent's choice probabilities in ``conditions["agent_probs"]`` [B, T, 2]. One Python step
    per trial: the agent's choice depends on every earlier outcome.
    """
    world = task.world(batch_size, generator=generator)
    memory = agent.start(batch_size)
    actions, probs = [], []
    for t in range(world.n_trials):
        p = agent.probs(memory)  # [B, 2]
        action = (torch.rand(batch_size, generator=generator) < p[:, 1]).long()  # [B]
        outcome = world.outcome(action[:, None], t)
        memory = agent.update(memory, action, outcome.states[:, 0], outcome.rewards[:, 0])
        actions.append(action)
        probs.append(p)
    return task.trials_from(world, torch.stack(actions, 1), torch.stack(probs, 1))
