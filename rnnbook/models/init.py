"""Weight initialisation: the schemes (registry ``INITS``, ``ModelConfig.init``) and the norm the
recurrent weights are scaled to (registry ``INIT_NORMS``, ``ModelConfig.init_norm``).

A scheme draws the input, readout and recurrent weights from the initialisation generator, in
that order (the recurrence draws its weights before any random E/I permutation):

- ``"gaussian"`` (the default): input and readout N(0, 1 / n_cols); recurrent N(0, 1 / n_rec),
  with Dale's law |w| * sign and the inhibitory columns scaled so every row sums to zero in
  expectation (E/I balance);
- ``"eirnn"`` (seed 000's EIRNN ``reset_parameters``): input kaiming-uniform (a = 0), readout
  xavier-uniform; recurrent kaiming-uniform (a = 0), the column signs of Dale's law
  (|w| * sign), then each column divided by its mean |w| (at least 1e-6);
- ``"brain_inspired"`` (seed 004's ``BrainInspiredRNN``; low-rank recurrence only): input and
  readout as ``torch.nn.Linear`` draws them, U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the low-rank
  factors m, n, M, N with entries N(0, 0.1^2), not rescaled (``spectral_radius`` unused).

A low-rank recurrence asks the scheme for its factors (``low_rank_factors``: ``[m, M]`` and
``[n, N]``, each [n_rec, rank + 1]) and rescales them only where ``scales_recurrent``.

The recurrent weights are then scaled so that ``INIT_NORMS[init_norm](W)`` equals
``ModelConfig.spectral_radius``: ``"spectral_radius"`` (the largest |eigenvalue|) or
``"singular_value"`` (the largest singular value, what seed 000 calls the spectral radius).
"""

from __future__ import annotations

import torch
from torch import nn

COLUMN_MEAN_FLOOR = 1e-6  # the smallest column mean |w| the eirnn scheme divides by


def spectral_radius(weight: torch.Tensor) -> float:
    """The largest absolute eigenvalue of a square matrix."""
    return float(torch.linalg.eigvals(weight.detach().double()).abs().max())


def largest_singular_value(weight: torch.Tensor) -> float:
    """The largest singular value of a matrix (its spectral norm), computed in float64."""
    return float(torch.linalg.matrix_norm(weight.detach().double(), ord=2))


def scale_to_radius(weight: torch.Tensor, radius: float) -> torch.Tensor:
    """``weight`` rescaled so that its spectral radius is ``radius``."""
    return weight * (radius / spectral_radius(weight))


def scale_to_norm(weight: torch.Tensor, target: float, norm: str) -> torch.Tensor:
    """``weight`` rescaled so that ``INIT_NORMS[norm](weight)`` is ``target``."""
    return weight * (target / INIT_NORMS[norm](weight))


def rescale_singular_value(weight: torch.Tensor, target: float, tol: float = 0.1) -> torch.Tensor:
    """``weight`` itself if its largest singular value lies within ``[(1 - tol) target,
    (1 + tol) target]``, else a copy scaled so that it equals ``target`` (seed 000's
    ``rescale_spectral_radius_(tol)``, with the target and the tolerance apart). A positive
    factor keeps every sign (Dale's law)."""
    sigma = largest_singular_value(weight)
    if abs(sigma - target) <= tol * target:
        return weight
    return weight * (target / sigma)


def gaussian(n_rows: int, n_cols: int, *, generator: torch.Generator) -> torch.Tensor:
    """[n_rows, n_cols] entries N(0, 1 / n_cols)."""
    return torch.randn(n_rows, n_cols, generator=generator) / n_cols**0.5


class GaussianInit:
    """The package's initialisation (module docstring)."""

    scales_recurrent = True  # the recurrent weights are scaled to spectral_radius

    @staticmethod
    def input(config, generator: torch.Generator) -> torch.Tensor:
        return gaussian(config.n_rec, config.n_in, generator=generator)

    @staticmethod
    def readout(config, generator: torch.Generator) -> torch.Tensor:
        return gaussian(config.n_out, config.n_rec, generator=generator)

    @staticmethod
    def recurrent(config, generator: torch.Generator) -> torch.Tensor:
        return gaussian(config.n_rec, config.n_rec, generator=generator)

    @staticmethod
    def low_rank_factors(config, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``[m, M]`` entries N(0, 1 / n_rec) and ``[n, N]`` entries N(0, 1), [n_rec, rank + 1]
        each, before scaling."""
        n_rec, rank = config.n_rec, config.rank
        left = torch.randn(n_rec, rank + 1, generator=generator) / n_rec**0.5
        return left, torch.randn(n_rec, rank + 1, generator=generator)

    @staticmethod
    def signed(draw: torch.Tensor, signs: torch.Tensor | None) -> torch.Tensor:
        """The drawn recurrent weights with the column ``signs`` (None: free signs), before
        scaling: E and I balanced per row in expectation."""
        if signs is None:
            return draw
        magnitude = draw.abs()
        n_e = int((signs > 0).sum())
        magnitude[:, signs < 0] *= n_e / (len(signs) - n_e)  # balance E and I per row
        return magnitude * signs


class EIRNNInit:
    """Seed 000's EIRNN initialisation (module docstring)."""

    scales_recurrent = True

    @staticmethod
    def input(config, generator: torch.Generator) -> torch.Tensor:
        weight = torch.empty(config.n_rec, config.n_in)
        return nn.init.kaiming_uniform_(weight, a=0.0, generator=generator)

    @staticmethod
    def readout(config, generator: torch.Generator) -> torch.Tensor:
        weight = torch.empty(config.n_out, config.n_rec)
        return nn.init.xavier_uniform_(weight, generator=generator)

    @staticmethod
    def recurrent(config, generator: torch.Generator) -> torch.Tensor:
        weight = torch.empty(config.n_rec, config.n_rec)
        return nn.init.kaiming_uniform_(weight, a=0.0, generator=generator)

    @staticmethod
    def signed(draw: torch.Tensor, signs: torch.Tensor | None) -> torch.Tensor:
        """Column signs (if any), then each column divided by its mean |w|."""
        weight = draw if signs is None else draw.abs() * signs
        return weight / weight.abs().mean(0).clamp_min(COLUMN_MEAN_FLOOR)


class BrainInspiredInit(GaussianInit):
    """Seed 004's initialisation (module docstring): ``nn.Linear``'s input and readout, and
    low-rank factors N(0, FACTOR_STD^2) left unscaled."""

    scales_recurrent = False
    factor_std = 0.1  # SD of every entry of m, n, M, N

    @staticmethod
    def input(config, generator: torch.Generator) -> torch.Tensor:
        return linear_default(config.n_rec, config.n_in, generator=generator)

    @staticmethod
    def readout(config, generator: torch.Generator) -> torch.Tensor:
        return linear_default(config.n_out, config.n_rec, generator=generator)

    @classmethod
    def low_rank_factors(cls, config, generator: torch.Generator):
        """``[m, M]`` then ``[n, N]``, [n_rec, rank + 1] each, entries N(0, factor_std^2)."""
        shape = (config.n_rec, config.rank + 1)
        left = torch.randn(shape, generator=generator) * cls.factor_std
        return left, torch.randn(shape, generator=generator) * cls.factor_std


def linear_default(n_rows: int, n_cols: int, *, generator: torch.Generator) -> torch.Tensor:
    """[n_rows, n_cols] as ``torch.nn.Linear`` initialises its weight: U(-1/sqrt(n_cols),
    1/sqrt(n_cols)) (kaiming-uniform with a = sqrt(5))."""
    bound = 1.0 / n_cols**0.5
    return (torch.rand(n_rows, n_cols, generator=generator) * 2 - 1) * bound


INITS = {"gaussian": GaussianInit, "eirnn": EIRNNInit, "brain_inspired": BrainInspiredInit}
LOW_RANK_ONLY = ("brain_inspired",)  # init schemes that apply to low-rank recurrence only
INIT_NORMS = {"spectral_radius": spectral_radius, "singular_value": largest_singular_value}
