"""The result of a fixed-point search: :class:`FixedPoints`, axis 0 indexing the point, with
indexing, ``summary()``, stable, marginal and unstable subsets, unstable directions, save and
load (:class:`~rnnbook.analysis.results.Result`). :mod:`rnnbook.analysis.fixed_points` finds
them.

Stability is read from the real parts of the Jacobian's eigenvalues with one tolerance: a real
part within ``tol = marginal_rtol * max_k |lambda_k|`` of zero (per point; default
``MARGINAL_RTOL = 1e-4``) counts as zero. A point is

- ``"stable"``:   every Re lambda < -tol;
- ``"marginal"``: no Re lambda > tol and at least one |Re lambda| <= tol (a point of a line or
  ring attractor: a direction along which the state neither returns nor leaves);
- ``"saddle"``:   some but not all Re lambda > tol (``n_unstable`` of them);
- ``"source"``:   every Re lambda > tol.

The tolerance is relative to the point's fastest rate (at least the leak 1 / tau for a leaky
network), so it means the same in any unit of time: a mode 10^4 times slower than the fastest
is neutral. It sits far above round-off and above the error that a point accepted at the
search's ``tol_q`` can leave in its eigenvalues (of order sqrt(2 tol_q) relative to the leak
for states and weights of order 1: 1e-5 at tol_q = 1e-10), and far below any decay a trial
can show (10^4 times the fastest time constant: over 1000 s for tau = 100 ms).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields
from numbers import Integral

import torch

from rnnbook.analysis.results import Result

MARGINAL_RTOL = 1e-4  # |Re lambda| <= this * max |lambda| counts as zero (module docstring)
KINDS = ("stable", "marginal", "saddle", "source")


def eigenvalue_tolerance(eigvals: torch.Tensor, rtol: float = MARGINAL_RTOL) -> torch.Tensor:
    """[P, 1] the tolerance ``rtol * max_k |lambda_k|`` of each row of ``eigvals [P, N]``."""
    return rtol * eigvals.abs().amax(dim=1, keepdim=True)


@dataclass(frozen=True, eq=False)
class FixedPoints(Result):
    """Fixed (and optionally slow) points; axis 0 indexes the point, sorted by ``q``.

    x:         [P, N] the points (states).
    q:         [P] their speed 1/2 |tau dx/dt|^2 (state units squared).
    jacobian:  [P, N, N] d(dx/dt)/dx at each point, per ms.
    eigvals:   [P, N] complex eigenvalues of the Jacobian (per ms), largest real part first;
               a stable mode decays with time constant -1 / real part (ms).
    is_stable: [P] bool, every real part below -tol (kind "stable"; the finder sets it with
               ``marginal_rtol``, as ``n_unstable``, ``n_marginal`` and ``kinds`` read it).
    inputs:    [P, n_in] the constant input at which each point was found.
    n_initial: how many initial states the search started from.
    tol_q:     the tolerance below which a point counts as fixed (``is_fixed``).
    rates:     [P, N] f(x), when the model has an ``activation`` (else None).
    gains:     [P, N] f'(x), the slope of the rate nonlinearity (else None).
    marginal_rtol: the relative tolerance of a zero real part (module docstring).
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
    marginal_rtol: float = MARGINAL_RTOL

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
    def tolerance(self) -> torch.Tensor:
        """[P] the tolerance of a zero real part at each point (per ms; module docstring)."""
        return eigenvalue_tolerance(self.eigvals, self.marginal_rtol).reshape(len(self))

    @property
    def n_unstable(self) -> torch.Tensor:
        """[P] number of eigenvalues with real part > tol (unstable directions)."""
        return (self.eigvals.real > self.tolerance[:, None]).sum(dim=1)

    @property
    def n_marginal(self) -> torch.Tensor:
        """[P] number of eigenvalues with |real part| <= tol (neutral directions)."""
        return (self.eigvals.real.abs() <= self.tolerance[:, None]).sum(dim=1)

    @property
    def kinds(self) -> list[str]:
        """[P] each point's kind: "stable", "marginal", "saddle" or "source" (module
        docstring)."""
        n = self.x.shape[1]
        return [
            _kind(k, m, n)
            for k, m in zip(self.n_unstable.tolist(), self.n_marginal.tolist(), strict=True)
        ]

    def counts(self) -> dict[str, int]:
        """The number of points of each kind, every kind listed (0 if absent)."""
        kinds = self.kinds
        return {kind: kinds.count(kind) for kind in KINDS}

    @property
    def is_fixed(self) -> torch.Tensor:
        """[P] bool, q < tol_q (the others are slow points, kept with ``keep_slow``)."""
        return self.q < self.tol_q

    @property
    def stable(self) -> FixedPoints:
        return self[self.is_stable]

    @property
    def marginal(self) -> FixedPoints:
        """The marginal points (no unstable direction, at least one neutral one)."""
        return self[(self.n_unstable == 0) & (self.n_marginal > 0)]

    @property
    def unstable(self) -> FixedPoints:
        """The points with at least one unstable direction (saddles and sources)."""
        return self[self.n_unstable > 0]

    def summary(self) -> str:
        """E.g. '9 fixed points (4 stable, 4 saddles with 1 unstable direction, 1 source)'; a
        marginal point reads '2 marginal with 1 neutral direction'."""
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
        unstable, marginal = self.n_unstable.tolist(), self.n_marginal.tolist()
        keys = [(k, m if k == 0 else 0) for k, m in zip(unstable, marginal, strict=True)]
        parts = []
        for (k, m), count in sorted(Counter(keys).items()):
            kind = _kind(k, m, n)
            if kind == "stable":
                parts.append(f"{count} stable")
            elif kind == "marginal":
                parts.append(f"{count} marginal with {m} neutral direction{'s' * (m != 1)}")
            elif kind == "source":
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


def _kind(n_unstable: int, n_marginal: int, n: int) -> str:
    if n_unstable == 0:
        return "marginal" if n_marginal else "stable"
    return "source" if n_unstable == n else "saddle"
