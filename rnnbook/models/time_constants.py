"""Time constants: how far the state moves towards its input in one Euler step.

``alpha = dt / tau`` enters the scans as a number (one time constant) or as an [n_rec]
vector (one per unit) in the same Euler step. Registry ``TIME_CONSTANTS`` by the kind that
``ModelConfig.time_constants`` derives from the config:

- ``"scalar"``: one ``tau`` (ms);
- ``"log_uniform"``: ``tau = (low, high)``: per-unit taus drawn log-uniform in [low, high] from
  the initialisation generator and kept as a fixed buffer (seed 003's heterogeneous taus);
- ``"leak"``: the discrete leak ``alpha`` given directly (seed 000); tau = dt / leak is
  derived, never stored.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class ScalarTau(nn.Module):
    """One time constant for every unit: alpha = dt / tau, a number."""

    def __init__(self, config, *, generator: torch.Generator):
        super().__init__()
        self.dt, self.alpha = config.dt, self.alpha_of(config)

    @staticmethod
    def alpha_of(config) -> float:
        return config.dt / config.tau

    @property
    def tau(self) -> float:
        """The time constant in ms (derived from alpha for a leak)."""
        return self.dt / self.alpha

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"


class LeakTau(ScalarTau):
    """The leak alpha given directly (``ModelConfig.leak``)."""

    @staticmethod
    def alpha_of(config) -> float:
        return config.leak


class LogUniformTau(nn.Module):
    """Per-unit taus, log-uniform in [low, high] ms, a fixed buffer ``tau`` [n_rec]."""

    def __init__(self, config, *, generator: torch.Generator):
        super().__init__()
        low, high = config.tau
        u = torch.rand(config.n_rec, generator=generator)
        self.register_buffer("tau", low * torch.exp(u * math.log(high / low)))
        self.dt = config.dt

    @property
    def alpha(self) -> torch.Tensor:
        """[n_rec] dt / tau per unit (computed in float64, rounded once)."""
        return (self.dt / self.tau.double()).to(self.tau.dtype)


TIME_CONSTANTS = {"scalar": ScalarTau, "log_uniform": LogUniformTau, "leak": LeakTau}
