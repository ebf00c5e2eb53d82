"""Input and readout weights: free, non-negative, or (readout) from excitatory units only.

Each is a module with ``effective_weight()`` and ``set_effective_weight(w)``; a constraint
lives in how the raw parameter maps to the effective weight. Registries ``INPUT_WEIGHTS`` and
``READOUT_WEIGHTS``: each entry builds the module from its initial values ``init`` and the
recurrence's presynaptic ``signs`` (None without populations).
"""

from __future__ import annotations

import torch
from torch import nn


class FreeWeight(nn.Module):
    """A plain weight ``[n_out, n_in]``."""

    def __init__(self, init: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(init)

    def effective_weight(self) -> torch.Tensor:
        return self.weight

    @torch.no_grad()
    def set_effective_weight(self, weight: torch.Tensor) -> None:
        self.weight.copy_(weight)


class NonNegative(nn.Module):
    """A non-negative weight ``|raw| * mask`` (mask: 0/1, which entries may be non-zero)."""

    def __init__(self, init: torch.Tensor, mask: torch.Tensor | None = None):
        super().__init__()
        self.weight_raw = nn.Parameter(init.abs())
        self.register_buffer("mask", torch.ones_like(init) if mask is None else mask)

    def effective_weight(self) -> torch.Tensor:
        return self.weight_raw.abs() * self.mask

    @torch.no_grad()
    def set_effective_weight(self, weight: torch.Tensor) -> None:
        """Set the weight; ValueError if it is negative or non-zero where the mask is 0."""
        if (weight < 0).any() or (weight * (1 - self.mask)).any():
            raise ValueError(
                "weight is not allowed here: this weight is non-negative and zero outside its "
                "mask (e.g. a readout from excitatory units only)"
            )
        self.weight_raw.copy_(weight)


class MaskedWeight(nn.Module):
    """A free-sign weight ``weight * mask`` (mask: 0/1, which entries may be non-zero); the
    masked-out entries of ``weight`` start (and, having no gradient, stay) at zero."""

    def __init__(self, init: torch.Tensor, mask: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(init.masked_fill(mask == 0, 0.0))
        self.register_buffer("mask", mask)

    def effective_weight(self) -> torch.Tensor:
        return self.weight * self.mask

    @torch.no_grad()
    def set_effective_weight(self, weight: torch.Tensor) -> None:
        """Set the weight; ValueError if it is non-zero where the mask is 0."""
        if (weight * (1 - self.mask)).any():
            raise ValueError(
                "weight is not allowed here: this weight is zero outside its mask (e.g. a "
                "readout from excitatory units only)"
            )
        self.weight.copy_(weight)


def _e_mask(init: torch.Tensor, signs: torch.Tensor) -> torch.Tensor:
    return (signs > 0).to(init.dtype).expand_as(init).clone()


def _e_only(init: torch.Tensor, signs: torch.Tensor) -> MaskedWeight:
    """Free-sign readout [n_out, n_rec] of the excitatory units alone: ``W_out (h * e_mask)``,
    seed 000's ``readout: e_only``."""
    return MaskedWeight(init, _e_mask(init, signs))


def _excitatory_only(init: torch.Tensor, signs: torch.Tensor) -> NonNegative:
    """Non-negative readout [n_out, n_rec] from the excitatory units (signs > 0) alone."""
    return NonNegative(init, _e_mask(init, signs))


INPUT_WEIGHTS = {
    "free": lambda init, signs: FreeWeight(init),
    "nonnegative": lambda init, signs: NonNegative(init),
}
READOUT_WEIGHTS = {**INPUT_WEIGHTS, "excitatory": _excitatory_only, "e_only": _e_only}
NEEDS_POPULATIONS = ("excitatory", "e_only")  # readouts that need the recurrence's E/I signs
