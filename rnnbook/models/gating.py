"""How the recurrent current enters the state (registry ``GATES``): ungated, or gated.

``"none"``: the plain leaky scan, ``x <- lerp(x, W f(x) + drive, alpha)``.

``"multiplicative"`` (the seed's ``RNNWithGateDale``): ``g_t = sigmoid(W_gx u_t + W_gr r_t +
b_g)`` in (0, 1) per unit multiplies the recurrent current ``W r_t`` of each postsynaptic unit:
an input- and state-dependent gain on the current a unit receives. The gate's own recurrent
weights ``W_gr`` are free in sign in a network without populations; under Dale's law (the
recurrence has presynaptic ``signs``) they are ``|raw| * sign[pre]``, the column signs of the
recurrence, drawn balanced as its weights are (``GaussianInit.signed``): an excitatory unit
can only open the gates of the units it reaches, an inhibitory one only close them. The
gate's input weights stay free, as the recurrence's input weights are.

The effective coupling ``d(dx_i/dt)/dr_j = (g_i W_ij + g_i (1 - g_i) W_gr,ij c_i) / tau`` (c_i
= (W r)_i, the recurrent current unit i receives) then has the sign of unit j wherever
``c_i >= 0``: the gate term scales the current, so when a unit's recurrent current is net
inhibitory (c_i < 0), an excitatory unit opening its gate deepens that inhibition. That term
is second order (g (1 - g) <= 1/4, times the gate weight, times the current), and the
column signs keep its direct part; ``tests/test_models.py`` checks both on a trained
network.

Each is a module with ``integrate`` (runs its scan) and ``current`` (the gated current of the
continuous-time dynamics, for ``RateRNN.velocity``).
"""

from __future__ import annotations

import torch
from torch import nn

from rnnbook.models.gated_scan import gated_scan
from rnnbook.models.init import GaussianInit, gaussian
from rnnbook.models.scan import leaky_scan
from rnnbook.models.weights import FreeWeight


class NoGate(nn.Module):
    def __init__(self, config, *, generator: torch.Generator, signs=None):
        super().__init__()

    def integrate(self, drive, inputs, x0, w_t, alpha, f, keep=None, value=None):
        """(states, rates), both [T, B, N], from ``drive [T, B, N]`` (see ``leaky_scan``)."""
        return leaky_scan(drive, x0, w_t, alpha, f, keep, value)

    def current(self, rates: torch.Tensor, inputs: torch.Tensor, current: torch.Tensor):
        return current


class ColumnSigned(nn.Module):
    """A weight ``|raw| * sign[pre]`` [n_post, n_pre] whose columns keep the presynaptic signs
    (``signs [n_pre]``, +1 E, -1 I), as ``DaleRecurrence`` (``weight_raw``: a magnitude)."""

    def __init__(self, init: torch.Tensor, signs: torch.Tensor):
        super().__init__()
        self.register_buffer("sign", signs.clone())
        self.weight_raw = nn.Parameter(init.abs())

    def effective_weight(self) -> torch.Tensor:
        return self.weight_raw.abs() * self.sign


class MultiplicativeGate(nn.Module):
    """The sigmoid gate on the recurrent current (module docstring). ``signs``: the
    recurrence's presynaptic signs [n_rec] (Dale's law), or None (free-sign gate weights)."""

    def __init__(self, config, *, generator: torch.Generator, signs=None):
        super().__init__()
        n_in, n_rec = config.n_in, config.n_rec
        self.input_weight = nn.Parameter(gaussian(n_rec, n_in, generator=generator))
        draw = gaussian(n_rec, n_rec, generator=generator) * 0.1
        # the gate's recurrent weights W_gr [n_rec (post), n_rec (pre)]
        if signs is None:
            self.recurrent = FreeWeight(draw)
        else:
            self.recurrent = ColumnSigned(GaussianInit.signed(draw, signs), signs)
        self.bias = nn.Parameter(torch.full((n_rec,), 2.0))  # start mostly open (sigmoid(2)=.88)

    @property
    def rate_weight(self) -> torch.Tensor:
        """W_gr [n_rec, n_rec] (post, pre), the effective weight (Dale's signs applied)."""
        return self.recurrent.effective_weight()

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
