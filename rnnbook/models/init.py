"""Weight initialisation with spectral-radius control."""

from __future__ import annotations

import torch


def spectral_radius(weight: torch.Tensor) -> float:
    """The largest absolute eigenvalue of a square matrix."""
    return float(torch.linalg.eigvals(weight.detach().double()).abs().max())


def scale_to_radius(weight: torch.Tensor, radius: float) -> torch.Tensor:
    """``weight`` rescaled so that its spectral radius is ``radius``."""
    return weight * (radius / spectral_radius(weight))


def gaussian(n_rows: int, n_cols: int, *, generator: torch.Generator) -> torch.Tensor:
    """[n_rows, n_cols] entries N(0, 1 / n_cols)."""
    return torch.randn(n_rows, n_cols, generator=generator) / n_cols**0.5
