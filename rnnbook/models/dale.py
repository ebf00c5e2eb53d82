"""Dale's law: every unit's outgoing weights share one sign (excitatory + or inhibitory -).

Reparameterisation ``W = |W_raw| * sign[pre]`` (Song, Yang & Wang 2016): the raw parameter is
free, the effective weight keeps its column signs after any optimiser step. The first
``n_excitatory`` units are excitatory. Initialisation draws magnitudes, scales inhibitory
columns so every row sums to zero in expectation (E/I balance), then sets the spectral radius.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnbook.models.init import scale_to_radius


def dale_signs(n_rec: int, n_excitatory: int) -> torch.Tensor:
    """[n_rec] +1 for the excitatory units (first), -1 for the inhibitory ones."""
    signs = torch.ones(n_rec)
    signs[n_excitatory:] = -1.0
    return signs


class DaleRecurrence(nn.Module):
    """Sign-constrained recurrent weights: ``effective_weight() = |weight_raw| * sign``."""

    def __init__(
        self, n_rec: int, n_excitatory: int, *, spectral_radius: float, generator: torch.Generator
    ):
        super().__init__()
        self.register_buffer("sign", dale_signs(n_rec, n_excitatory))
        magnitude = torch.randn(n_rec, n_rec, generator=generator).abs() / n_rec**0.5
        n_inhibitory = n_rec - n_excitatory
        magnitude[:, n_excitatory:] *= n_excitatory / n_inhibitory  # balance E and I per row
        signed = scale_to_radius(magnitude * self.sign, spectral_radius)
        self.weight_raw = nn.Parameter(signed.abs())

    def effective_weight(self) -> torch.Tensor:
        return self.weight_raw.abs() * self.sign


class NonNegative(nn.Module):
    """A non-negative weight ``|raw| * mask`` (inputs onto, and readout from, Dale networks)."""

    def __init__(self, init: torch.Tensor, mask: torch.Tensor | None = None):
        super().__init__()
        self.weight_raw = nn.Parameter(init.abs())
        self.register_buffer("mask", torch.ones_like(init) if mask is None else mask)

    def effective_weight(self) -> torch.Tensor:
        return self.weight_raw.abs() * self.mask
