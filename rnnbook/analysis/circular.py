"""Circular statistics of angle errors (seed 003, delayed estimation).

Angles are in radians. An error is ``e = wrap(target - report)`` in (-pi, pi]. With the
trigonometric moments ``m_p = mean(exp(i p e))`` (seed 003's ``error_dist_analysis``):

- circular variance ``-2 ln|m_1|``: the squared circular SD, the Bays / van den Berg
  convention (not ``1 - |m_1|``); for a von Mises of concentration kappa it is
  ``-2 ln(I_1(kappa) / I_0(kappa))``, for a wrapped normal exactly ``sigma^2``;
- circular kurtosis ``(|m_2| cos(arg m_2 - 2 arg m_1) - |m_1|^4) / (1 - |m_1|)^2``;
- circular SD ``sqrt(-2 ln R)`` with ``R = |m_1|`` clamped to [1e-12, 0.999999].

:func:`errors_by_set_size` gives all of them per set size, with the mean absolute error
(chance: pi / 2) and the linear SD. :func:`slot_angles` decodes a network's (cos, sin) readout
per item slot; :func:`present_item_errors` pools the errors of the items shown. The
``check_*`` helpers validate the arrays of every working-memory analysis (``mixtures``,
``selectivity``): errors name the argument, its shape or bad value, and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.results import Result

R_CLAMP = (1e-12, 0.999999)  # the original's clamp of the mean resultant length for the SD


def check_array(name: str, x, want: str, ndim: int | None = None) -> np.ndarray:
    """``x`` as a float64 numpy array, or a ValueError naming ``name``, the bad shape or value
    and what is allowed: ``ndim`` dimensions (any when None), a non-empty axis 0, all finite.
    ``want`` describes the allowed shape, e.g. ``"[n] angles in radians"``."""
    array = as_numpy(x)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} has shape {tuple(array.shape)}: want {want}")
    if array.ndim > 0 and array.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(array.shape)}): want {want}")
    return check_finite(name, array)


def check_finite(name: str, array: np.ndarray) -> np.ndarray:
    """``array`` if every value is finite, else a ValueError naming the first bad one."""
    bad = ~np.isfinite(array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}{list(index)} = {array[index]} is not allowed: want finite numbers"
        )
    return array


def check_presence(name: str, x, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` as a bool array of ``shape`` (values 0/1 or bools), or a ValueError naming it."""
    array = as_numpy(x)
    if array.shape != shape:
        raise ValueError(f"{name} has shape {tuple(array.shape)}: want {list(shape)} 0/1 flags")
    if not np.all((array == 0) | (array == 1)):
        raise ValueError(f"{name} has values {np.unique(array)[:5]}: want 0/1 or bools")
    return array.astype(bool)


def check_set_sizes(set_sizes) -> np.ndarray:
    """``set_sizes`` as an int array [n], or a ValueError unless they are integers >= 1."""
    sizes = check_array("set_sizes", set_sizes, "[n] integer set sizes >= 1", ndim=1)
    bad = (sizes < 1) | (sizes != np.round(sizes))
    if bad.any():
        raise ValueError(f"set_sizes holds {sizes[bad][0]}: want integers >= 1")
    return sizes.astype(int)


def wrap_angle(angle) -> np.ndarray:
    """``angle`` (any shape, radians) wrapped to (-pi, pi]; -pi becomes pi."""
    a = check_array("angle", angle, "finite angles in radians")
    return np.pi - np.mod(np.pi - a, 2 * np.pi)


def angle_errors(targets, reports) -> np.ndarray:
    """``wrap(targets - reports)`` in (-pi, pi]; targets and reports: the same shape, radians."""
    t = check_array("targets", targets, "angles in radians")
    r = check_array("reports", reports, "angles in radians")
    if t.shape != r.shape:
        raise ValueError(f"reports has shape {r.shape}: want the shape of targets, {t.shape}")
    return wrap_angle(t - r)


def decode_angle(readout) -> np.ndarray:
    """The angle ``atan2(sin, cos)`` of a (cos, sin) readout [..., 2]; returns [...], radians."""
    r = check_array("readout", readout, "[..., 2] (cos, sin) pairs")
    if r.ndim == 0 or r.shape[-1] != 2:
        raise ValueError(f"readout has shape {r.shape}: want [..., 2] (cos, sin) pairs")
    return np.arctan2(r[..., 1], r[..., 0])


def slot_angles(outputs, *, normalise: bool = False) -> np.ndarray:
    """Decoded angle per item slot, as seed 003 decodes it: [B, M] radians.

    outputs: [B, T, 2M] the readout over the decode window, slot k's (cos, sin) in channels
    (2k, 2k + 1). Each pair is averaged over T, then ``atan2(mean sin, mean cos)``; with
    ``normalise`` each pair is first scaled to unit length at every step (older versions).
    """
    out = check_array("outputs", outputs, "[B, T, 2M] (cos, sin) per slot", ndim=3)
    if out.shape[1] == 0 or out.shape[2] == 0 or out.shape[2] % 2:
        raise ValueError(f"outputs has shape {out.shape}: want [B, T >= 1, 2M] with M >= 1")
    pairs = out.reshape(*out.shape[:2], -1, 2)  # [B, T, M, 2]
    if normalise:
        pairs = pairs / np.linalg.norm(pairs, axis=-1, keepdims=True)
    return decode_angle(pairs.mean(axis=1))


def present_item_errors(angles, decoded, presence) -> tuple[np.ndarray, np.ndarray]:
    """The errors of the items shown, pooled, with the set size of each one's trial.

    angles, decoded: [B, M] true and decoded angle per slot (radians; absent slots may hold
    anything, even NaN); presence: [B, M] 0/1. Returns errors [n] = ``wrap(angle - decoded)``
    over the present items (trial-major order) and set_sizes [n], n = ``presence.sum()``.
    """
    a, d = as_numpy(angles), as_numpy(decoded)
    if a.ndim != 2 or d.shape != a.shape:
        raise ValueError(f"angles and decoded have shapes {a.shape}, {d.shape}: want [B, M] both")
    shown = check_presence("presence", presence, a.shape)
    if not shown.any():
        raise ValueError("presence has no present item: want at least one 1")
    errors = angle_errors(check_finite("angles", a[shown]), check_finite("decoded", d[shown]))
    sizes = np.broadcast_to(shown.sum(axis=1, keepdims=True), shown.shape)[shown]
    return errors, sizes


def _moments(errors: np.ndarray) -> tuple[complex, complex]:
    """The first two trigonometric moments m_1, m_2 of errors [n]."""
    return np.mean(np.exp(1j * errors)), np.mean(np.exp(2j * errors))


def _errors(errors) -> np.ndarray:
    return check_array("errors", errors, "[n] angle errors in radians", ndim=1)


def circular_variance(errors) -> float:
    """``-2 ln|m_1|`` of errors [n] (radians^2): the squared circular SD; 0 for identical
    errors, large (inf at |m_1| = 0) for uniform ones."""
    with np.errstate(divide="ignore"):
        return float(-2 * np.log(np.abs(_moments(_errors(errors))[0])))


def circular_kurtosis(errors) -> float:
    """``(|m_2| cos(arg m_2 - 2 arg m_1) - |m_1|^4) / (1 - |m_1|)^2`` of errors [n];
    unchanged by rotating every error by the same angle."""
    m1, m2 = _moments(_errors(errors))
    r1 = np.abs(m1)
    return float((np.abs(m2) * np.cos(np.angle(m2) - 2 * np.angle(m1)) - r1**4) / (1 - r1) ** 2)


def circular_sd(errors) -> float:
    """``sqrt(-2 ln R)`` of errors [n], radians, with R = |m_1| clamped to [1e-12, 0.999999]."""
    r = np.clip(np.abs(_moments(_errors(errors))[0]), *R_CLAMP)
    return float(np.sqrt(-2 * np.log(r)))


def von_mises_resultant(kappa) -> np.ndarray:
    """``A(kappa) = I_1(kappa) / I_0(kappa)``: |m_1| of a von Mises of concentration kappa >= 0
    (any shape)."""
    k = check_array("kappa", kappa, "concentrations >= 0")
    if np.any(k < 0):
        raise ValueError(f"kappa = {k[k < 0].flat[0]} is not allowed: want kappa >= 0")
    return special.i1e(k) / special.i0e(k)


def von_mises_circular_variance(kappa) -> np.ndarray:
    """``-2 ln(I_1(kappa) / I_0(kappa))`` (radians^2): the circular variance of a von Mises."""
    with np.errstate(divide="ignore"):
        return -2 * np.log(von_mises_resultant(kappa))


def von_mises_sd(kappa) -> np.ndarray:
    """``sqrt(-2 ln(I_1(kappa) / I_0(kappa)))``, radians: the circular SD of a von Mises
    (0.366 rad at kappa = 8)."""
    return np.sqrt(von_mises_circular_variance(kappa))


@dataclass(frozen=True, eq=False)
class SetSizeErrors(Result):
    """Error statistics per set size; axis 0 of every array indexes the set size.

    set_sizes:          [K] the set sizes, increasing.
    n:                  [K] the number of errors (present items) at each.
    mean_abs_error:     [K] mean |e|, radians (chance: pi / 2).
    circular_variance:  [K] ``-2 ln|m_1|``, radians^2.
    circular_kurtosis:  [K] see the module docstring.
    circular_sd:        [K] ``sqrt(-2 ln R)``, R clamped; radians.
    linear_sd:          [K] the standard deviation of e (ddof 0), radians.
    errors:             K arrays [n_k] of the errors themselves, radians (for histograms and
                        mixture fits).
    """

    set_sizes: np.ndarray
    n: np.ndarray
    mean_abs_error: np.ndarray
    circular_variance: np.ndarray
    circular_kurtosis: np.ndarray
    circular_sd: np.ndarray
    linear_sd: np.ndarray
    errors: tuple[np.ndarray, ...]

    def summary(self) -> str:
        rows = [
            f"  set size {s}: n {n}, mean |e| {m:.3f} rad, circ. var {v:.4f}, kurtosis {k:.3f}"
            for s, n, m, v, k in zip(
                self.set_sizes,
                self.n,
                self.mean_abs_error,
                self.circular_variance,
                self.circular_kurtosis,
                strict=True,
            )
        ]
        return "\n".join(["Errors by set size:", *rows])


def errors_by_set_size(errors, set_sizes) -> SetSizeErrors:
    """The statistics of errors [n] (radians, e.g. from :func:`present_item_errors`) grouped
    by set_sizes [n] (integers >= 1, the set size of each error's trial)."""
    e = wrap_angle(_errors(errors))
    sizes = check_set_sizes(set_sizes)
    if sizes.shape != e.shape:
        raise ValueError(f"set_sizes has shape {sizes.shape}: want the shape of errors, {e.shape}")
    levels = np.unique(sizes)
    groups = tuple(e[sizes == s] for s in levels)
    return SetSizeErrors(
        set_sizes=levels,
        n=np.array([len(g) for g in groups]),
        mean_abs_error=_per_group(lambda g: np.abs(g).mean(), groups),
        circular_variance=_per_group(circular_variance, groups),
        circular_kurtosis=_per_group(circular_kurtosis, groups),
        circular_sd=_per_group(circular_sd, groups),
        linear_sd=_per_group(np.std, groups),
        errors=groups,
    )


def _per_group(statistic, groups) -> np.ndarray:
    return np.array([statistic(g) for g in groups])
