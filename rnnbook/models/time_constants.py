"""Time constants: how far the state moves towards its input in one Euler step.

``alpha = dt / tau`` enters the scans as a number (one time constant) or as an [n_rec]
vector (one per unit) in the same Euler step. Registry ``TIME_CONSTANTS`` by the kind that
``ModelConfig.time_constants`` derives from the config:

- ``"scalar"``: one ``tau`` (ms);
- ``"log_uniform"``: ``tau = (low, high)``: per-unit taus drawn log-uniform in [low, high] from
  the initialisation generator and kept as a fixed buffer (seed 003's heterogeneous taus);
  with ``ModelConfig.sort_taus`` sorted ascending within each population (E units and I
  units under Dale's law, in unit order; all units otherwise), as seed 003 sorts them;
- ``"leak"``: the discrete leak ``alpha`` given directly (seed 000); tau = dt / leak is
  derived, never stored.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class ScalarTau(nn.Module):
    """One time constant for every unit: alpha = dt / tau, a number."""

    def __init__(self, config, *, generator: torch.Generator, signs=None):
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
    """Per-unit taus, log-uniform in [low, high] ms, a fixed buffer ``tau`` [n_rec]; sorted
    within populations when ``config.sort_taus`` (``signs``: [n_rec] +1 E / -1 I, or None)."""

    def __init__(self, config, *, generator: torch.Generator, signs=None):
        super().__init__()
        low, high = config.tau
        u = torch.rand(config.n_rec, generator=generator)
        tau = low * torch.exp(u * math.log(high / low))
        if getattr(config, "sort_taus", False):
            tau = sorted_within(tau, signs)
        self.register_buffer("tau", tau)
        self.dt = config.dt

    @property
    def alpha(self) -> torch.Tensor:
        """[n_rec] dt / tau per unit (computed in float64, rounded once)."""
        return (self.dt / self.tau.double()).to(self.tau.dtype)


def sorted_within(values: torch.Tensor, signs: torch.Tensor | None) -> torch.Tensor:
    """``values`` [n] sorted ascending within each population of ``signs`` [n] (+1 / -1; the
    units of a population keep their places, their values are sorted in unit order), or all
    together when ``signs`` is None."""
    if signs is None:
        return values.sort().values
    out = values.clone()
    for population in (signs > 0, signs < 0):
        out[population] = values[population].sort().values
    return out


TIME_CONSTANTS = {"scalar": ScalarTau, "log_uniform": LogUniformTau, "leak": LeakTau}
