"""Low-rank recurrence (registry name ``"low_rank"``): ``W = m n^T + M N^T``.

m, n: [n_rec, 1] and M, N: [n_rec, rank], so rank(W) <= rank + 1 for any parameters
(Mastrogiuseppe & Ostojic 2018; the structure of seed 004's ``LowRankRecurrentLayer``). The
dynamics then live in the span of the columns of m and M (plus the inputs), which makes them
readable in a few dimensions. Initialisation: Gaussian factors, rescaled together so that W
starts at the config's spectral radius in its ``init_norm`` (the scale split evenly between
left and right); the ``init`` scheme "eirnn" does not apply to factors (``ModelConfig``
refuses it).
"""

from __future__ import annotations

import torch
from torch import nn

from rnnbook.models.init import INIT_NORMS


class LowRankRecurrence(nn.Module):
    signs = None

    def __init__(self, config, *, generator: torch.Generator):
        super().__init__()
        n_rec, rank = config.n_rec, config.rank
        left = torch.randn(n_rec, rank + 1, generator=generator) / n_rec**0.5
        right = torch.randn(n_rec, rank + 1, generator=generator)
        norm = INIT_NORMS[config.init_norm]
        scale = (config.spectral_radius / norm(left @ right.T)) ** 0.5
        left, right = left * scale, right * scale
        self.m, self.M = nn.Parameter(left[:, :1]), nn.Parameter(left[:, 1:])
        self.n, self.N = nn.Parameter(right[:, :1]), nn.Parameter(right[:, 1:])

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
