"""Multiplicative gating of the recurrent current (the seed's ``RNNWithGateDale``).

``g_t = sigmoid(W_gx u_t + W_gr r_t + b_g)`` in (0, 1) per unit multiplies the recurrent
current ``W r_t`` of each postsynaptic unit: an input- and state-dependent gain that never
flips a sign, so Dale's law survives gating.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnbook.models.init import gaussian


class MultiplicativeGate(nn.Module):
    def __init__(self, n_in: int, n_rec: int, *, generator: torch.Generator):
        super().__init__()
        self.input_weight = nn.Parameter(gaussian(n_rec, n_in, generator=generator))
        self.rate_weight = nn.Parameter(gaussian(n_rec, n_rec, generator=generator) * 0.1)
        self.bias = nn.Parameter(torch.full((n_rec,), 2.0))  # start mostly open (sigmoid(2)=.88)

    def input_drive(self, inputs: torch.Tensor) -> torch.Tensor:
        """[B, T, n_in] -> [T, B, n_rec]: the gate's input part for all steps in one op."""
        return torch.addmm(
            self.bias, inputs.transpose(0, 1).reshape(-1, inputs.shape[2]), self.input_weight.T
        ).view(inputs.shape[1], inputs.shape[0], -1)

    def forward(self, input_drive_t: torch.Tensor, rates: torch.Tensor) -> torch.Tensor:
        """[B, n_rec] gate values for one step."""
        return torch.sigmoid(torch.addmm(input_drive_t, rates, self.rate_weight.T))
