"""Fixed points seen as points of the discrete-time map, with seed 000's labels.

A network stepped with Euler steps of ``dt`` is the map x -> x + dt F(x); at a fixed point its
Jacobian is ``I + dt J``, with J = dF/dx the continuous-time Jacobian (per ms) that
:class:`~rnnbook.analysis.fixed_point_result.FixedPoints` holds. For seed 000's leaky network
(leak alpha) this is ``(1 - alpha) I + alpha W diag(f')``, whose eigenvalues are those of the
original's ``(1 - alpha) I + alpha diag(f') W`` (W D and D W share their spectrum).

:func:`classify_map_eigenvalues` labels a point as the original does
(``experiments/fixed_points/scripts/method_1``), from the moduli |mu| of the map's eigenvalues:

- "stable":      every |mu| < 1 - 1e-3;
- "continuous":  some | |mu| - 1 | < 0.02 and none > 1 + 1e-3 (a line or ring attractor);
                 as "stable" is tested first, this needs max |mu| in [1 - 1e-3, 1 + 1e-3];
- "rotational":  some |mu| > 1 + 1e-3 and some complex mu with | |mu| - 1 | < 0.05;
- "saddle":      some |mu| > 1 + 1e-3 otherwise (a source, every |mu| > 1, is a "saddle" too);
- "unstable":    none of these, which finite eigenvalues cannot reach (if no |mu| exceeds
                 1 + 1e-3 and not all are below 1 - 1e-3, the largest is within 1e-3 of 1,
                 which is "continuous"): only non-finite eigenvalues end here.

:func:`map_stability` puts these beside rnnbook's continuous-time reading (the number of
eigenvalues of J with a real part above its tolerance) so that a page can show both.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnbook.analysis.fixed_point_result import FixedPoints
from rnnbook.analysis.results import Result

LABELS = ("stable", "continuous", "rotational", "saddle", "unstable")
STABLE_BELOW = 1e-3  # "stable": every |mu| < 1 - this
UNSTABLE_ABOVE = 1e-3  # unstable directions: |mu| > 1 + this
CONTINUOUS_WITHIN = 0.02  # "continuous": some |mu| within this of 1
ROTATIONAL_WITHIN = 0.05  # "rotational": some complex mu within this of the unit circle


@dataclass(frozen=True, eq=False)
class MapStability(Result):
    """Fixed points as points of the Euler map; axis 0 indexes the point.

    eigvals:         [P, N] complex eigenvalues mu of the map's Jacobian I + dt J.
    spectral_radius: [P] max |mu| (the original's ``rho``).
    margin:          [P] 1 - spectral_radius (the original's ``margin``).
    labels:          [P] the original's labels (module docstring).
    n_unstable:      [P] rnnbook's count of continuous-time eigenvalues with Re lambda > tol
                     (``FixedPoints.n_unstable``).
    dt:              the step (ms).
    """

    eigvals: torch.Tensor
    spectral_radius: torch.Tensor
    margin: torch.Tensor
    labels: list
    n_unstable: torch.Tensor
    dt: float

    def counts(self) -> dict[str, int]:
        """The number of points with each label, every label listed (0 if absent)."""
        return {label: self.labels.count(label) for label in LABELS}


def map_stability(points: FixedPoints, dt: float) -> MapStability:
    """The discrete-time reading of ``points`` (their ``jacobian`` is per ms) at step ``dt``."""
    if not dt > 0:
        raise ValueError(f"dt = {dt!r} is not allowed: want the Euler step in ms, > 0")
    jac = points.jacobian.to(torch.float64)
    eye = torch.eye(jac.shape[-1], dtype=jac.dtype)
    mu = torch.linalg.eigvals(eye + dt * jac) if len(jac) else jac.new_zeros(jac.shape[:2])
    mu = mu.to(torch.complex128)
    rho = mu.abs().amax(dim=1) if mu.shape[1] else mu.real.new_zeros(len(mu))
    return MapStability(
        eigvals=mu,
        spectral_radius=rho,
        margin=1 - rho,
        labels=classify_map_eigenvalues(mu),
        n_unstable=points.n_unstable,
        dt=float(dt),
    )


def classify_map_eigenvalues(eigvals) -> list[str]:
    """Seed 000's label (module docstring) of each row of ``eigvals [P, N]`` (complex or
    real eigenvalues of a map's Jacobian)."""
    mu = torch.as_tensor(eigvals)
    if mu.ndim != 2:
        raise ValueError(f"eigvals must be [P, N]; got shape {tuple(mu.shape)}")
    return [_label(row) for row in mu]


def _label(mu: torch.Tensor) -> str:
    modulus = mu.abs()
    above = modulus > 1 + UNSTABLE_ABOVE
    if (modulus < 1 - STABLE_BELOW).all():
        return "stable"
    if ((modulus - 1).abs() < CONTINUOUS_WITHIN).any() and not above.any():
        return "continuous"
    if above.any():
        complex_ = mu.imag != 0 if mu.is_complex() else torch.zeros_like(above)
        near = ((modulus - 1).abs() < ROTATIONAL_WITHIN) & complex_
        return "rotational" if near.any() else "saddle"
    return "unstable"
