"""Dale's law (registry name ``"dale"``): every unit's outgoing weights share one sign.

Reparameterisation ``W = |W_raw| * sign[pre]`` (Song, Yang & Wang 2016): the raw parameter is
free, the effective weight keeps its column signs after any optimiser step. A fraction
``e_frac`` of the units is excitatory: the first ones (``e_units="first"``) or a random
permutation drawn from the initialisation generator (``"random"``, as seed 000's EIRNN).
Initialisation (``models.init``): the scheme ``ModelConfig.init`` draws the weights, then the
permutation is drawn, the scheme gives them the column signs (the default balances E and I
per row in expectation), and they are scaled to ``spectral_radius`` in ``init_norm``.

Under gradient descent a raw weight may cross zero: its effective weight is then the
reflection ``|w| * sign`` of the step's result, seed 000's ``project_EI_`` after a GD step.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnbook.models.init import INITS, scale_to_norm


def dale_signs(
    n_rec: int, n_excitatory: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """[n_rec] +1 for the excitatory units, -1 for the inhibitory ones: the first
    ``n_excitatory`` units are excitatory, or a random set of them if ``generator`` is given."""
    signs = torch.ones(n_rec)
    signs[n_excitatory:] = -1.0
    if generator is not None:
        signs = signs[torch.randperm(n_rec, generator=generator)]
    return signs


class DaleRecurrence(nn.Module):
    """Sign-constrained recurrent weights: ``effective_weight() = |weight_raw| * sign``."""

    def __init__(self, config, *, generator: torch.Generator):
        super().__init__()
        n_rec, n_e = config.n_rec, config.n_excitatory
        init = INITS[config.init]
        draw = init.recurrent(config, generator)
        permute = generator if config.e_units == "random" else None
        self.register_buffer("sign", dale_signs(n_rec, n_e, generator=permute))
        signed = init.signed(draw, self.sign)
        signed = scale_to_norm(signed, config.spectral_radius, config.init_norm)
        self.weight_raw = nn.Parameter(signed.abs())

    @property
    def signs(self) -> torch.Tensor:
        return self.sign

    def effective_weight(self) -> torch.Tensor:
        return self.weight_raw.abs() * self.sign

    @torch.no_grad()
    def set_effective_weight(self, weight: torch.Tensor) -> None:
        """Set W; ValueError naming the columns whose signs break the populations."""
        wrong = ((weight * self.sign) < 0).any(0).nonzero().flatten().tolist()
        if wrong:
            raise ValueError(
                f"recurrent weight breaks Dale's law in presynaptic columns {wrong[:10]}: "
                "each column must have its unit's sign (model.recurrence.sign)"
            )
        self.weight_raw.copy_(weight.abs())
