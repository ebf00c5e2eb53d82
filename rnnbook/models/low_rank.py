"""Low-rank recurrence (registry name ``"low_rank"``): ``W = m n^T + M N^T``, and its spectra.

m, n: [n_rec, 1] and M, N: [n_rec, rank], so rank(W) <= rank + 1 for any parameters
(Mastrogiuseppe & Ostojic 2018; the structure of seed 004's ``LowRankRecurrentLayer``). The
dynamics then live in the span of the columns of m and M (plus the inputs), which makes them
readable in a few dimensions.

Initialisation: the config's ``init`` scheme draws the factors ``[m, M]`` and ``[n, N]``
(``models.init``: ``"gaussian"`` draws them N(0, 1 / n_rec) and N(0, 1) and then rescales them
together so that W starts at ``spectral_radius`` in ``init_norm``; ``"brain_inspired"``, seed
004's, draws every entry N(0, 0.1^2) and does not rescale). Between the two, the SV-decay
initialisation of seed 004 multiplies column i of M and of N by ``sqrt(t_i)``, with the
profile ``t_i = exp(-sv_decay * i)`` (i = 0 .. rank - 1) normalised to sum to ``rank``
(:func:`sv_decay_profile`; ``sv_decay = 0``: all ones, no change). As in the original it does
not orthogonalise, so the realised spectrum is only roughly shaped.

The spectral quantities of seed 004's penalties and analyses are here, on the singular values
``s`` (descending) of W, so that training and analysis compute them the same way: the nuclear
norm, the effective rank in the code's sigma^2 form and the sigma form, the target spectrum and
the spectral loss.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnbook.models.init import INIT_NORMS, INITS

TINY = 1e-30  # the smallest denominator of a ratio of spectral sums (a zero matrix: D = 0)


def sv_decay_profile(rank: int, gamma: float) -> torch.Tensor:
    """[rank] ``t_i = exp(-gamma i)``, i = 0 .. rank - 1, normalised to sum to ``rank``."""
    t = torch.exp(-gamma * torch.arange(rank, dtype=torch.float64))
    return (t * (rank / t.sum())).float()


def singular_values(weight: torch.Tensor) -> torch.Tensor:
    """[..., min(rows, cols)] the singular values of ``weight [..., rows, cols]``, descending;
    differentiable (``torch.linalg.svdvals``: gradients stable at repeated values)."""
    return torch.linalg.svdvals(weight)


def nuclear_norm(s: torch.Tensor) -> torch.Tensor:
    """``sum_i s_i`` over the last axis of the singular values ``s [..., k]``."""
    return s.sum(-1)


def effective_rank(s: torch.Tensor, *, form: str = "sigma2") -> torch.Tensor:
    """The participation ratio of the singular values ``s [..., k]`` (last axis).

    ``form="sigma2"`` (seed 004's code): ``(sum s^2)^2 / sum s^4``, the participation ratio of
    the eigenvalues s_i^2 of W W^T; ``form="sigma"``: ``(sum s)^2 / sum s^2``. Both are r for r
    equal non-zero values, and 0 for a zero matrix."""
    if form not in EFFECTIVE_RANK_FORMS:
        raise ValueError(f"form = {form!r} is not allowed: choose one of {EFFECTIVE_RANK_FORMS}")
    power = s.square() if form == "sigma2" else s
    return power.sum(-1).square() / power.square().sum(-1).clamp_min(TINY)


EFFECTIVE_RANK_FORMS = ("sigma2", "sigma")


def sv_decay_target(s: torch.Tensor, rank: int, gamma: float) -> torch.Tensor:
    """[rank] seed 004's target spectrum: ``t_i = exp(-gamma i)`` rescaled to the sum of the
    top ``rank`` values of ``s [k]`` (``t * sum_{i<rank} s_i / sum t``; the scale carries
    gradient)."""
    t = torch.exp(-gamma * torch.arange(rank, dtype=s.dtype, device=s.device))
    return t * (s[:rank].sum() / t.sum())


def spectral_loss(s: torch.Tensor, rank: int, gamma: float) -> torch.Tensor:
    """``mean_{i<rank} (s_i - t_i)^2`` against :func:`sv_decay_target` (seed 004's
    ``F.mse_loss`` over the top ``rank``): 0 when the top values decay exactly as e^{-gamma i}.
    ``s [k]`` descending; ``rank`` at most k."""
    if not 1 <= rank <= s.shape[-1]:
        raise ValueError(f"rank = {rank!r} is out of range: allowed 1 .. {s.shape[-1]}")
    return (s[:rank] - sv_decay_target(s, rank, gamma)).square().mean()


class LowRankRecurrence(nn.Module):
    """``effective_weight() = m n^T + M N^T`` [n_rec, n_rec] (module docstring)."""

    signs = None

    def __init__(self, config, *, generator: torch.Generator):
        super().__init__()
        init = INITS[config.init]
        left, right = init.low_rank_factors(config, generator)  # [n_rec, rank + 1] each
        root = sv_decay_profile(config.rank, config.sv_decay).sqrt()
        left, right = left.clone(), right.clone()
        left[:, 1:] *= root
        right[:, 1:] *= root
        if init.scales_recurrent:
            norm = INIT_NORMS[config.init_norm]
            scale = (config.spectral_radius / norm(left @ right.T)) ** 0.5
            left, right = left * scale, right * scale
        self.m, self.M = nn.Parameter(left[:, :1]), nn.Parameter(left[:, 1:])
        self.n, self.N = nn.Parameter(right[:, :1]), nn.Parameter(right[:, 1:])

    @property
    def left(self) -> torch.Tensor:
        """[n_rec, rank + 1] the output directions ``[m, M]``: W maps any rates into their
        span."""
        return torch.cat([self.m, self.M], dim=1)

    def effective_weight(self) -> torch.Tensor:
        return torch.addmm(self.m @ self.n.T, self.M, self.N.T)

    @torch.no_grad()
    def set_effective_weight(self, weight: torch.Tensor, *, rtol: float = 1e-5) -> None:
        """Set the factors from W's SVD; ValueError if rank(W) > rank + 1 (relative ``rtol``)."""
        u, s, vh = torch.linalg.svd(weight.double())
        keep = self.M.shape[1] + 1
        if len(s) > keep and s[keep] > rtol * s[0]:
            raise ValueError(
                f"recurrent weight has rank > {keep} (singular value {keep + 1} is "
                f"{float(s[keep]):.3g} of {float(s[0]):.3g}): a rank-{keep - 1} low-rank "
                f"recurrence holds rank <= {keep}"
            )
        root = s[:keep].sqrt()
        left, right = (u[:, :keep] * root).float(), (vh[:keep].T * root).float()
        for param, value in ((self.m, left[:, :1]), (self.M, left[:, 1:])):
            param.copy_(value)
        for param, value in ((self.n, right[:, :1]), (self.N, right[:, 1:])):
            param.copy_(value)
