"""Geometry of a network's weight vectors: how its input and readout weights align with each
other and with the principal axes of its activity.

- :func:`weight_correlation`: the cosine between the input and the readout weight vectors.
- :func:`participation_ratio`: over how many principal components a weight vector is spread,
  ``(sum c_i^2)^2 / sum c_i^4`` for its projections ``c_i``; the source's signed variant
  ``(sum c_i)^2 / sum c_i^2`` is returned beside it, and :func:`signed_ratios_over_signs`
  shows how that variant moves with the arbitrary signs of the components.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.results import Result


def input_weight(model: torch.nn.Module, channel: int = 0) -> np.ndarray:
    """[n_rec] the input weights of input ``channel`` (the source's ``I``)."""
    return as_numpy(model.input.effective_weight()[:, channel])


def readout_weight(model: torch.nn.Module, channel: int = 0) -> np.ndarray:
    """[n_rec] the readout weights of output ``channel`` (the source's ``w``)."""
    return as_numpy(model.readout.effective_weight()[channel])


def weight_correlation(model: torch.nn.Module) -> float:
    """The cosine between the input and readout weight vectors (``I . w / |I| |w|``), in
    [-1, 1]: the source's *weight correlation* (no mean is subtracted)."""
    i, w = input_weight(model), readout_weight(model)
    return float(i @ w / (np.linalg.norm(i) * np.linalg.norm(w)))


@dataclass(frozen=True, eq=False)
class Participation(Result):
    """How a vector spreads over a set of orthonormal components.

    coefficients: [k] its projections ``c_i`` on the components.
    ratio:        ``(sum c_i^2)^2 / sum c_i^4``, in [1, k]: 1 on one component, k spread evenly
                  over k (the standard participation ratio of the weights ``c_i^2``).
    signed_ratio: the source's ``(sum c_i)^2 / sum c_i^2``, in [0, k]: it depends on the
                  arbitrary sign of each component, and cancelling terms make it small.
    captured:     fraction of the vector's squared norm inside the components' span.
    """

    coefficients: np.ndarray
    ratio: float
    signed_ratio: float
    captured: float


def participation_ratio(vector, components) -> Participation:
    """Participation of ``vector`` [N] in ``components`` [k, N] (orthonormal rows, e.g.
    ``PCA.components``)."""
    v, comps = as_numpy(vector), as_numpy(components)
    if comps.ndim != 2 or v.shape != comps.shape[1:]:
        raise ValueError(
            f"participation_ratio takes vector [N] and components [k, N]; "
            f"got {v.shape} and {comps.shape}"
        )
    c = comps @ v  # [k]
    power = c**2
    return Participation(
        coefficients=c,
        ratio=float(power.sum() ** 2 / (power**2).sum()),
        signed_ratio=float(c.sum() ** 2 / power.sum()),
        captured=float(power.sum() / (v @ v)),
    )


def signed_ratios_over_signs(
    vector, components, n_flips: int = 1000, *, generator: torch.Generator
) -> np.ndarray:
    """[n_flips] the signed variant of :func:`participation_ratio` of ``vector`` [N] for
    ``n_flips`` random sign conventions of ``components`` [k, N] (each sign +-1 with
    probability 1/2, from ``generator``); the standard ratio is the same for all of them."""
    comps = as_numpy(components)
    c = participation_ratio(vector, comps).coefficients  # [k]
    signs = torch.randint(2, (n_flips, len(c)), generator=generator).numpy() * 2.0 - 1.0
    flipped = signs * c  # [n_flips, k]: the coefficients on the flipped components
    return flipped.sum(axis=1) ** 2 / (c**2).sum()
