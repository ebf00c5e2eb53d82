"""The result of a fixed-point search: :class:`FixedPoints`, axis 0 indexing the point, with
indexing, ``summary()``, stable and unstable subsets, unstable directions, save and load
(:class:`~rnnbook.analysis.results.Result`). :mod:`rnnbook.analysis.fixed_points` finds them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields
from numbers import Integral

import torch

from rnnbook.analysis.results import Result


@dataclass(frozen=True, eq=False)
class FixedPoints(Result):
    """Fixed (and optionally slow) points; axis 0 indexes the point, sorted by ``q``.

    x:         [P, N] the points (states).
    q:         [P] their speed 1/2 |tau dx/dt|^2 (state units squared).
    jacobian:  [P, N, N] d(dx/dt)/dx at each point, per ms.
    eigvals:   [P, N] complex eigenvalues of the Jacobian (per ms), largest real part first;
               a stable mode decays with time constant -1 / real part (ms).
    is_stable: [P] bool, every eigenvalue has a negative real part.
    inputs:    [P, n_in] the constant input at which each point was found.
    n_initial: how many initial states the search started from.
    tol_q:     the tolerance below which a point counts as fixed (``is_fixed``).
    rates:     [P, N] f(x), when the model has an ``activation`` (else None).
    gains:     [P, N] f'(x), the slope of the rate nonlinearity (else None).
    """

    x: torch.Tensor
    q: torch.Tensor
    jacobian: torch.Tensor
    eigvals: torch.Tensor
    is_stable: torch.Tensor
    inputs: torch.Tensor
    n_initial: int
    tol_q: float
    rates: torch.Tensor | None = None
    gains: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index) -> FixedPoints:
        """Select points by an int, a slice, indices or a bool mask [P]; always a FixedPoints."""
        if isinstance(index, Integral) or (torch.is_tensor(index) and index.ndim == 0):
            index = [int(index)]  # keep axis 0
        picked = {
            f.name: value[index] if isinstance(value, torch.Tensor) else value
            for f in fields(self)
            for value in [getattr(self, f.name)]
        }
        return FixedPoints(**picked)

    @property
    def n_unstable(self) -> torch.Tensor:
        """[P] number of eigenvalues with a positive real part (unstable directions)."""
        return (self.eigvals.real > 0).sum(dim=1)

    @property
    def is_fixed(self) -> torch.Tensor:
        """[P] bool, q < tol_q (the others are slow points, kept with ``keep_slow``)."""
        return self.q < self.tol_q

    @property
    def stable(self) -> FixedPoints:
        return self[self.is_stable]

    @property
    def unstable(self) -> FixedPoints:
        return self[~self.is_stable]

    def summary(self) -> str:
        """E.g. '9 fixed points (4 stable, 4 saddles with 1 unstable direction, 1 source)'."""
        n_fixed = int(self.is_fixed.sum())
        text = f"{n_fixed} fixed point{'s' * (n_fixed != 1)}"
        if n_fixed:
            text += f" ({self[self.is_fixed]._kinds()})"
        n_slow = len(self) - n_fixed
        if n_slow:
            slow = self[~self.is_fixed]
            text += f" and {n_slow} slow point{'s' * (n_slow != 1)} ({slow._kinds()}; "
            text += f"q up to {float(slow.q.max()):.1e})"
        return text

    def _kinds(self) -> str:
        n = self.x.shape[1]
        counts = sorted(Counter(self.n_unstable.tolist()).items())
        parts = []
        for k, count in counts:
            if k == 0:
                parts.append(f"{count} stable")
            elif k == n:
                parts.append(f"{count} source{'s' * (count != 1)}")
            else:
                dirs = f"{k} unstable direction{'s' * (k != 1)}"
                parts.append(f"{count} saddle{'s' * (count != 1)} with {dirs}")
        return ", ".join(parts)

    def unstable_directions(self, k: int = 1, *, space: str = "states") -> torch.Tensor:
        """[P, k, N] unit vectors along the eigenvectors of the ``k`` eigenvalues with the
        largest real parts (real parts of the eigenvectors), whether or not they are unstable
        (compare ``n_unstable``). ``space="rates"`` maps them to rate space by ``f'(x)``."""
        if space not in ("states", "rates"):
            raise ValueError(f"space = {space!r}: choose 'states' or 'rates'")
        if space == "rates" and self.gains is None:
            raise ValueError("space='rates' needs rates: the model had no `activation`")
        values, vectors = torch.linalg.eig(self.jacobian)  # [P, N], [P, N, N] (columns)
        order = values.real.argsort(dim=1, descending=True)[:, :k]  # [P, k]
        picked = vectors.gather(2, order[:, None, :].expand(-1, vectors.shape[1], -1)).real
        directions = picked.transpose(1, 2)  # [P, k, N]
        if space == "rates":
            directions = directions * self.gains[:, None, :]
        return directions / directions.norm(dim=2, keepdim=True).clamp_min(1e-300)
