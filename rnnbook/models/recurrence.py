"""Dense recurrence: unconstrained recurrent weights (registry name ``"dense"``).

Every recurrence module exposes ``effective_weight() -> [n_rec, n_rec]`` (post, pre), its
inverse ``set_effective_weight(w)``, and ``signs``: None, or [n_rec] presynaptic signs (+1 E,
-1 I) where the recurrence has populations. Raw parameters stay unconstrained; a constraint
lives in how ``effective_weight`` maps them.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnbook.models.init import INITS, scale_to_norm


class DenseRecurrence(nn.Module):
    """Unconstrained recurrent weights, drawn by the config's ``init`` scheme and scaled to its
    ``spectral_radius`` (in ``init_norm``)."""

    signs = None

    def __init__(self, config, *, generator: torch.Generator):
        super().__init__()
        init = INITS[config.init]
        w = init.signed(init.recurrent(config, generator), None)
        self.weight = nn.Parameter(scale_to_norm(w, config.spectral_radius, config.init_norm))

    def effective_weight(self) -> torch.Tensor:
        return self.weight

    @torch.no_grad()
    def set_effective_weight(self, weight: torch.Tensor) -> None:
        self.weight.copy_(weight)
