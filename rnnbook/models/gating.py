"""How the recurrent current enters the state (registry ``GATES``): ungated, or gated.

``"none"``: the plain leaky scan, ``x <- lerp(x, W f(x) + drive, alpha)``.

``"multiplicative"`` (the seed's ``RNNWithGateDale``): ``g_t = sigmoid(W_gx u_t + W_gr r_t +
b_g)`` in (0, 1) per unit multiplies the recurrent current ``W r_t`` of each postsynaptic unit:
an input- and state-dependent gain on the current a unit receives. The gate's own recurrent
weights ``W_gr`` are free in sign.

Each is a module with ``integrate`` (runs its scan) and ``current`` (the gated current of the
continuous-time dynamics, for ``RateRNN.velocity``).
"""

from __future__ import annotations

import torch
from torch import nn

from rnnbook.models.gated_scan import gated_scan
from rnnbook.models.init import gaussian
from rnnbook.models.scan import leaky_scan


class NoGate(nn.Module):
    def __init__(self, config, *, generator: torch.Generator):
        super().__init__()

    def integrate(self, drive, inputs, x0, w_t, alpha, f, keep=None, value=None):
        """(states, rates), both [T, B, N], from ``drive [T, B, N]`` (see ``leaky_scan``)."""
        return leaky_scan(drive, x0, w_t, alpha, f, keep, value)

    def current(self, rates: torch.Tensor, inputs: torch.Tensor, current: torch.Tensor):
        return current


class MultiplicativeGate(nn.Module):
    def __init__(self, config, *, generator: torch.Generator):
        super().__init__()
        n_in, n_rec = config.n_in, config.n_rec
        self.input_weight = nn.Parameter(gaussian(n_rec, n_in, generator=generator))
        self.rate_weight = nn.Parameter(gaussian(n_rec, n_rec, generator=generator) * 0.1)
        self.bias = nn.Parameter(torch.full((n_rec,), 2.0))  # start mostly open (sigmoid(2)=.88)

    def input_drive(self, inputs: torch.Tensor) -> torch.Tensor:
        """[B, T, n_in] -> [T, B, n_rec]: the gate's input part for all steps in one op."""
        return torch.addmm(
            self.bias, inputs.transpose(0, 1).reshape(-1, inputs.shape[2]), self.input_weight.T
        ).view(inputs.shape[1], inputs.shape[0], -1)

    def integrate(self, drive, inputs, x0, w_t, alpha, f, keep=None, value=None):
        """(states, rates), both [T, B, N] (see ``gated_scan``); inputs: [B, T, n_in]."""
        gate_drive = self.input_drive(inputs)  # [T, B, N]
        return gated_scan(drive, gate_drive, x0, w_t, self.rate_weight.T, alpha, f, keep, value)

    def current(self, rates: torch.Tensor, inputs: torch.Tensor, current: torch.Tensor):
        """The gated current ``g * current`` at ``rates [..., N]`` and ``inputs [..., n_in]``."""
        gate = inputs @ self.input_weight.T + self.bias + rates @ self.rate_weight.T
        return torch.sigmoid(gate) * current


GATES = {"none": NoGate, "multiplicative": MultiplicativeGate}
