"""Rate functions ``r = f(x)``: the registry ``RATE_FUNCTIONS`` by name.

Each is a small object with three methods the scans need:

- ``f(x)``: the rates, differentiable (analyses, fixed points, ``velocity``);
- ``into(x, out)``: the same, written into ``out`` (no allocation per time step);
- ``derivative(r)``: f'(x) computed from the rates ``r = f(x)`` alone, so the backward pass
  through time needs no second copy of the states.

A new rate function is one class here and one registry entry; the scans and the model take it
as it is. ``ModelConfig.activation`` names it; its parameters (``softplus_beta``,
``rate_max``) are config fields.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

_ONE = torch.ones(())  # a 0-d tensor broadcasts across dtypes and devices with its float value


class RateFunction:
    """Base: ``into`` falls back to ``out.copy_(f(x))``; ``from_config`` reads the parameters.
    ``nonnegative``: whether every rate is >= 0 (spike-count noise needs it)."""

    nonnegative = False

    def __call__(self, x):
        raise NotImplementedError

    def into(self, x, out):
        return out.copy_(self(x))

    def derivative(self, r):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config) -> RateFunction:
        return cls()


class Linear(RateFunction):
    """f(x) = x."""

    def __call__(self, x):
        return x

    def into(self, x, out):
        return out.copy_(x)

    def derivative(self, r):
        return torch.ones_like(r)


class Relu(RateFunction):
    """f(x) = max(x, 0)."""

    nonnegative = True

    def __call__(self, x):
        return torch.relu(x)

    def into(self, x, out):
        return torch.clamp_min(x, 0.0, out=out)

    def derivative(self, r):
        return torch.sign(r)  # r >= 0: 1 where the unit is on, else 0


class Tanh(RateFunction):
    """f(x) = tanh(x)."""

    def __call__(self, x):
        return torch.tanh(x)

    def into(self, x, out):
        return torch.tanh(x, out=out)

    def derivative(self, r):
        return torch.addcmul(_ONE, r, r, value=-1.0)  # 1 - r^2


class Softplus(RateFunction):
    """f(x) = log(1 + exp(beta x)) / beta (linear above beta x > 20, as torch's softplus)."""

    nonnegative = True

    def __init__(self, beta: float = 1.0):
        self.beta = beta

    def __call__(self, x):
        return F.softplus(x, beta=self.beta)

    @classmethod
    def from_config(cls, config) -> Softplus:
        return cls(config.softplus_beta)

    def derivative(self, r):
        return -torch.expm1(-self.beta * r)  # sigmoid(beta x) = 1 - exp(-beta f(x))


class Saturating(RateFunction):
    """f(x) = (rate_max / 2) (1 + tanh(0.14 x - 4.2)): a sigmoid rate in (0, rate_max) with its
    half-maximum at x = 30, the firing-rate function of the working-memory study (seed 003).
    f'(x) = 0.28 r (1 - r / rate_max). With rate_max = 60 Hz: f(30) = 30, f(0) = 0.0135 Hz."""

    gain, offset = 0.14, 4.2
    nonnegative = True

    def __init__(self, rate_max: float = 60.0):
        self.rate_max = rate_max

    def __call__(self, x):
        return 0.5 * self.rate_max * (1 + torch.tanh(self.gain * x - self.offset))

    @classmethod
    def from_config(cls, config) -> Saturating:
        return cls(config.rate_max)

    def derivative(self, r):
        return 2 * self.gain * r * (1 - r / self.rate_max)


RATE_FUNCTIONS = {
    "linear": Linear,
    "relu": Relu,
    "tanh": Tanh,
    "softplus": Softplus,
    "saturating": Saturating,
}


def as_rate_function(activation: str | RateFunction) -> RateFunction:
    """A rate function object from itself or a registered name (default parameters)."""
    return RATE_FUNCTIONS[activation]() if isinstance(activation, str) else activation
