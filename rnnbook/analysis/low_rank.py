"""Seed 004's analyses of low-rank networks: spectra, heterogeneity, and the rank-r subspace.

- :func:`recurrent_spectrum`: the singular values of the recurrent weights, the effective
  rank in both forms (the code's ``(sum s^2)^2 / sum s^4`` and ``(sum s)^2 / sum s^2``), the
  nuclear and Frobenius norms, and the SV decay gamma-hat fitted two ways: as the original
  (``get_model_metrics``) fits it, over **all** N singular values, the N - r - 1 numerically
  zero ones included, which biases it upwards (premature on reversal: 0.61 against a target
  of 0.2), and over the top r + 1 only.
- :func:`response_heterogeneity`: the response heterogeneity H at given states (the
  finite-difference proxy and the exact Jacobian, ``rnnbook.models.heterogeneity``).
- :func:`flow_field` and :func:`subspace_fixed_points`: the dynamics of a low-rank network in
  the span of its output directions ``[m, M]``. For a constant input u, the component of the
  state outside that span relaxes to that of ``W_in u + b``, so the states
  ``x = offset + Q kappa`` (Q an orthonormal basis of span[m, M], ``offset`` the part of
  ``W_in u + b`` outside it) form an invariant (r + 1)-dimensional plane, and ``kappa = Q^T
  (x - offset)`` are its coordinates (Mastrogiuseppe & Ostojic 2018).

The GRU baseline's recurrent matrix is the state columns of its candidate weight
(:func:`recurrent_matrix`); ``legacy_gru_slice=True`` takes the columns the original took
(``W_h[:, hidden:]``, off by one when the input size differs from the hidden size: with 3
inputs and 4 units it is a [4, 3] block that misses the first state column and holds no input
column; spec section 4.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.analysis.fixed_point_result import FixedPoints
from rnnbook.analysis.fixed_points import find_fixed_points
from rnnbook.analysis.results import Result
from rnnbook.models import TinyGRU
from rnnbook.models import low_rank as spectra
from rnnbook.models.heterogeneity import unit_responses
from rnnbook.seeding import generator

LOG_FLOOR = 1e-10  # added to each singular value before its log (the original's)
RANK_TOL = 1e-5  # singular values below this fraction of the largest count as zero


def recurrent_matrix(model, *, legacy_gru_slice: bool = False) -> torch.Tensor:
    """The recurrent weight matrix of ``model``, detached: a rate RNN's effective ``W [N, N]``;
    a TinyGRU's candidate weight on the state, ``W_h[:, n_in:]`` [N, N], or with
    ``legacy_gru_slice`` the original's ``W_h[:, N:]`` ([N, n_in] columns, see the module)."""
    if isinstance(model, TinyGRU):
        start = model.config.n_rec if legacy_gru_slice else model.config.n_in
        return model.weight_h[:, start:].detach()
    return model.effective_weights().recurrent.detach()


def sv_decay_fit(singular_values, n: int | None = None) -> float:
    """gamma-hat: minus the slope of a least-squares line through ``log(s_i + 1e-10)`` against
    i = 0 .. n - 1, over the first ``n`` of ``singular_values [k]`` (descending; None: all k,
    the original's fit)."""
    s = np.asarray(torch.as_tensor(singular_values, dtype=torch.float64))
    s = s if n is None else s[:n]
    if len(s) < 2:
        raise ValueError(f"sv_decay_fit needs at least 2 singular values; got {len(s)}")
    slope = np.polyfit(np.arange(len(s)), np.log(s + LOG_FLOOR), 1)[0]
    return float(-slope)


@dataclass(frozen=True)
class RecurrentSpectrum(Result):
    """The spectrum of a recurrent matrix.

    singular_values: [k] descending (float64); normalised: [k] s / s_max (the original's).
    effective_rank: ``(sum s^2)^2 / sum s^4`` (the code's D); effective_rank_sigma:
    ``(sum s)^2 / sum s^2``. nuclear_norm: sum s; frobenius_norm: ``||W||_F`` (the original's
    weight_norm). gamma_all: the SV decay fitted over all k values (the original's);
    gamma_top: fitted over the first ``n_top`` (r + 1 for a rank-r network).
    numerical_rank: values above 1e-5 s_max.
    """

    singular_values: torch.Tensor
    normalised: torch.Tensor
    effective_rank: float
    effective_rank_sigma: float
    nuclear_norm: float
    frobenius_norm: float
    gamma_all: float
    gamma_top: float
    n_top: int
    numerical_rank: int

    def summary(self) -> str:
        return (
            f"D = {self.effective_rank:.3f} (sigma form {self.effective_rank_sigma:.3f}), "
            f"gamma-hat all = {self.gamma_all:.3f}, top {self.n_top} = {self.gamma_top:.3f}, "
            f"rank {self.numerical_rank}"
        )


def recurrent_spectrum(model_or_weight, *, rank: int | None = None, legacy_gru_slice: bool = False):
    """The :class:`RecurrentSpectrum` of a model's recurrent matrix (:func:`recurrent_matrix`)
    or of a matrix [rows, cols]. ``rank``: r of the top-(r + 1) fit; None: the model's ``rank`` when
    its recurrence is low-rank, else the numerical rank - 1 (at least 1)."""
    if isinstance(model_or_weight, torch.Tensor):
        weight = model_or_weight.detach()
    else:
        weight = recurrent_matrix(model_or_weight, legacy_gru_slice=legacy_gru_slice)
    s = spectra.singular_values(weight.double().cpu())
    numerical = int((s > RANK_TOL * s[0]).sum()) if s[0] > 0 else 0
    if rank is None:
        config = getattr(model_or_weight, "config", None)
        low_rank = getattr(config, "recurrence", None) == "low_rank"
        rank = config.rank if low_rank else max(numerical - 1, 1)
    n_top = min(rank + 1, len(s))
    return RecurrentSpectrum(
        singular_values=s,
        normalised=s / s[0].clamp_min(spectra.TINY),
        effective_rank=float(spectra.effective_rank(s)),
        effective_rank_sigma=float(spectra.effective_rank(s, form="sigma")),
        nuclear_norm=float(spectra.nuclear_norm(s)),
        frobenius_norm=float(torch.linalg.matrix_norm(weight.double())),
        gamma_all=sv_decay_fit(s),
        gamma_top=sv_decay_fit(s, n_top),
        n_top=n_top,
        numerical_rank=numerical,
    )


@dataclass(frozen=True)
class ResponseHeterogeneity(Result):
    """Response heterogeneity at B states.

    responses, responses_exact: [B, N] resp_j of the proxy and of the exact Jacobian.
    proxy, exact: [B] H = the unbiased variance of resp_j over units (each form).
    mean_proxy, mean_exact: their means over the states (the original's H).
    scale: the kick's current (state units).
    """

    responses: torch.Tensor
    responses_exact: torch.Tensor
    proxy: torch.Tensor
    exact: torch.Tensor
    mean_proxy: float
    mean_exact: float
    scale: float


@torch.no_grad()
def response_heterogeneity(
    model, states: torch.Tensor, *, scale: float = 0.1
) -> ResponseHeterogeneity:
    """The :class:`ResponseHeterogeneity` of a rate RNN at ``states [B, n_rec]`` (e.g. the last
    step's states of test sessions, as the original measures it), with a kick of ``scale``."""
    if not (hasattr(model, "alpha") and hasattr(model, "activation")):
        raise ValueError(f"heterogeneity needs a rate RNN; got a {type(model).__name__}")
    x = torch.as_tensor(states, dtype=torch.float32)
    weights = model.effective_weights()
    kw = dict(alpha=model.alpha, activation=model.activation, scale=scale)
    proxy = unit_responses(x, weights, **kw)
    exact = unit_responses(x, weights, **kw, exact=True)
    return ResponseHeterogeneity(
        responses=proxy,
        responses_exact=exact,
        proxy=proxy.var(dim=-1),
        exact=exact.var(dim=-1),
        mean_proxy=float(proxy.var(dim=-1).mean()),
        mean_exact=float(exact.var(dim=-1).mean()),
        scale=float(scale),
    )


@torch.no_grad()
def subspace_basis(model, inputs=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(Q [N, r + 1], offset [N]): an orthonormal basis of the span of the low-rank network's
    ``[m, M]`` (QR; column k follows the k-th factor) and the part of ``W_in u + b`` outside it
    (``inputs [n_in]``, default zeros): the invariant plane ``offset + Q kappa``."""
    left = getattr(model.recurrence, "left", None)
    if left is None:
        raise ValueError(
            f"the rank-r subspace needs recurrence = 'low_rank'; got "
            f"{getattr(model.config, 'recurrence', type(model).__name__)!r}"
        )
    q, _ = torch.linalg.qr(left.detach().double())
    w = model.effective_weights()
    u = torch.zeros(model.config.n_in) if inputs is None else torch.as_tensor(inputs)
    drive = w.input.detach().double() @ u.double() + w.bias.detach().double()
    return q, drive - q @ (q.T @ drive)


@dataclass(frozen=True)
class FlowField(Result):
    """The velocity of a low-rank network on a grid of the plane spanned by two of its
    subspace axes (see the module docstring).

    coords: [G] the kappa values of the grid along each axis (the same for both).
    velocity: [G, G, 2] d kappa / dt (per ms) along ``axes``, the state's velocity projected on
    the two basis vectors; entry [i, j] is at kappa[axes[0]] = coords[i], kappa[axes[1]] =
    coords[j], every other kappa 0. speed: [G, G] its norm.
    axes: the two basis columns (0: along m, 1..r: along M, orthonormalised in that order).
    basis: [N, r + 1] Q; offset: [N]; inputs: [n_in] the constant input.
    """

    coords: torch.Tensor
    velocity: torch.Tensor
    speed: torch.Tensor
    axes: tuple[int, int]
    basis: torch.Tensor
    offset: torch.Tensor
    inputs: torch.Tensor


@torch.no_grad()
def flow_field(
    model, *, inputs=None, axes: tuple[int, int] = (0, 1), extent: float = 2.0, n_grid: int = 21
) -> FlowField:
    """The :class:`FlowField` of a low-rank rate RNN at the constant ``inputs [n_in]`` (default
    zeros) on an ``n_grid`` x ``n_grid`` grid of kappa in [-extent, extent] along ``axes``."""
    q, offset = subspace_basis(model, inputs)
    if len(set(axes)) != 2 or not all(0 <= a < q.shape[1] for a in axes):
        raise ValueError(f"axes = {axes!r} is not allowed: want two of 0 .. {q.shape[1] - 1}")
    u = torch.zeros(model.config.n_in) if inputs is None else torch.as_tensor(inputs).float()
    coords = torch.linspace(-extent, extent, n_grid, dtype=torch.float64)
    a, b = torch.meshgrid(coords, coords, indexing="ij")  # [G, G]
    plane = q[:, list(axes)]  # [N, 2]
    x = offset + torch.stack([a, b], dim=-1) @ plane.T  # [G, G, N]
    velocity = model.velocity(x.float(), u.expand(n_grid, n_grid, -1)).double() @ plane
    return FlowField(
        coords=coords,
        velocity=velocity,
        speed=velocity.norm(dim=-1),
        axes=tuple(axes),
        basis=q,
        offset=offset,
        inputs=u,
    )


@dataclass(frozen=True)
class SubspaceFixedPoints(Result):
    """Fixed points of a low-rank network and their coordinates in its subspace.

    points: the :class:`FixedPoints` (axis 0 the point); coordinates: [P, r + 1] kappa =
    Q^T (x* - offset); residual: [P] the distance of each point from the plane (0 up to the
    search's precision); basis: [N, r + 1] Q; offset: [N].
    """

    points: FixedPoints
    coordinates: torch.Tensor
    residual: torch.Tensor
    basis: torch.Tensor
    offset: torch.Tensor


def subspace_fixed_points(
    model, *, inputs=None, n_initial: int = 64, extent: float = 2.0, seed: int = 0, **search
) -> SubspaceFixedPoints:
    """Fixed points of a low-rank rate RNN at the constant ``inputs [n_in]`` (default zeros),
    searched (:func:`rnnbook.analysis.find_fixed_points`, keywords ``search``) from
    ``n_initial`` states on its invariant plane, kappa uniform in [-extent, extent]^(r + 1)
    (drawn from the ``units`` stream of ``seed``)."""
    q, offset = subspace_basis(model, inputs)
    gen = generator(seed, "units")
    kappa = (torch.rand(n_initial, q.shape[1], generator=gen, dtype=torch.float64) * 2 - 1) * extent
    u = torch.zeros(model.config.n_in) if inputs is None else torch.as_tensor(inputs).float()
    points = find_fixed_points(model, u, (offset + kappa @ q.T).float(), **search)
    shifted = points.x.double() - offset
    coordinates = shifted @ q
    return SubspaceFixedPoints(
        points=points,
        coordinates=coordinates,
        residual=(shifted - coordinates @ q.T).norm(dim=-1),
        basis=q,
        offset=offset,
    )
