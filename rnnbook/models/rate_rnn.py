"""The leaky, continuous-time rate RNN, discretised with Euler steps of ``dt``.

    x_{t+1} = (1 - alpha) x_t + alpha (W f(x_t) + W_in (u_t + n_t) + b) + sqrt(2 alpha) s_rec xi_t
    y_t     = W_out f(x_t) + b_out,    alpha = dt / tau,    s_rec = sigma_rec

with input noise ``n_t = sqrt(2 / alpha) sigma_in xi2_t`` (so that it also reaches the
state with amplitude sqrt(2 alpha) sigma_in). Constraints are modules: the recurrence
(dense or Dale, trained or fixed), the non-negative input/readout weights of Dale networks,
the gate. Both integrate with a hand-written backward pass (``models.scan``, ``models.gated_scan``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from rnnbook.models.config import ModelConfig
from rnnbook.models.dale import DaleRecurrence, NonNegative
from rnnbook.models.fixed import freeze
from rnnbook.models.gated_scan import gated_scan
from rnnbook.models.gating import MultiplicativeGate
from rnnbook.models.init import gaussian
from rnnbook.models.interventions import Intervention, compile_interventions
from rnnbook.models.recurrence import DenseRecurrence
from rnnbook.models.scan import leaky_scan
from rnnbook.seeding import Seeds

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "softplus": nn.functional.softplus}


@dataclass
class Rollout:
    """What a forward pass returns. outputs: [B, T, n_out]; states, rates: [B, T, n_rec]."""

    outputs: torch.Tensor
    states: torch.Tensor
    rates: torch.Tensor


class Linear(nn.Module):
    """A plain weight ``[n_out, n_in]`` with the same ``effective_weight()`` interface."""

    def __init__(self, init: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(init)

    def effective_weight(self) -> torch.Tensor:
        return self.weight


class RateRNN(nn.Module):
    """Leaky rate RNN with optional Dale's law, gating and noise (see the module docstring).

    ``RateRNN(config, seed=0)``: the seed fans out (``rnnbook.seeding.Seeds``) into the
    initialisation generator and the model's default noise generator.
    """

    def __init__(self, config: ModelConfig, *, seed: int = 0):
        super().__init__()
        self.config = config
        seeds = Seeds.from_seed(seed)
        gen = seeds.generator("init")
        self.noise_generator = seeds.generator("noise")
        n_in, n_rec, n_out = config.n_in, config.n_rec, config.n_out
        w_in = gaussian(n_rec, n_in, generator=gen)
        w_out = gaussian(n_out, n_rec, generator=gen)
        if config.dale:
            n_e = config.n_excitatory
            self.recurrence = DaleRecurrence(
                n_rec, n_e, spectral_radius=config.spectral_radius, generator=gen
            )
            self.input = NonNegative(w_in)
            readout_mask = torch.ones(n_out, n_rec)
            if config.readout == "excitatory":
                readout_mask[:, n_e:] = 0.0
            self.readout = NonNegative(w_out, readout_mask)
        else:
            self.recurrence = DenseRecurrence(
                n_rec, spectral_radius=config.spectral_radius, generator=gen
            )
            self.input = Linear(w_in)
            self.readout = Linear(w_out)
        if not config.train_recurrent:
            freeze(self.recurrence)
        if config.bias:
            self.bias = nn.Parameter(torch.zeros(n_rec))
            self.readout_bias = nn.Parameter(torch.zeros(n_out))
        else:  # buffers: in the state dict and moved by .to(), never trained
            self.register_buffer("bias", torch.zeros(n_rec))
            self.register_buffer("readout_bias", torch.zeros(n_out))
        self.gate = MultiplicativeGate(n_in, n_rec, generator=gen) if config.gating else None
        self.activation = _ACTIVATIONS[config.activation]

    def forward(
        self,
        inputs: torch.Tensor,
        h0: torch.Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
        intervention: Intervention | Sequence[Intervention] | None = None,
    ) -> Rollout:
        """Run the network on ``inputs [B, T, n_in]`` from ``h0 [B, n_rec]`` (zeros if None).

        ``generator`` draws the noise (default: the model's own noise generator).
        ``intervention``: a lesion, clamp, perturbation or gain (``models.interventions``), or a
        list of them, applied in this call only.
        """
        cfg = self.config
        batch, n_steps, _ = inputs.shape
        gen = self._noise_generator(inputs.device) if generator is None else generator
        if cfg.sigma_in > 0:
            scale = math.sqrt(2.0 / cfg.alpha) * cfg.sigma_in
            inputs = inputs + scale * torch.randn(inputs.shape, generator=gen, device=inputs.device)
        # drive[t] = W_in u_t + b (+ recurrent noise / alpha), for all steps in one op: [T, B, N]
        u = inputs.transpose(0, 1).reshape(n_steps * batch, -1)
        drive = torch.addmm(self.bias, u, self.input.effective_weight().T)
        if cfg.sigma_rec > 0:
            scale = math.sqrt(2.0 / cfg.alpha) * cfg.sigma_rec
            drive = drive + scale * torch.randn(drive.shape, generator=gen, device=drive.device)
        drive = drive.view(n_steps, batch, cfg.n_rec)
        edits = compile_interventions(
            intervention, n_steps, cfg.n_rec, cfg.dt, dtype=drive.dtype, device=drive.device
        )
        if edits.current is not None:
            drive = drive + edits.current[:, None]
        # the scan's r_t (t = 0..T) is the rate reported at step t - 1; r_0 gets step 0's edit
        keep, value = edits.keep, edits.value
        if keep is not None:
            keep, value = (torch.cat([e[:1], e]) for e in (edits.keep, edits.value))
        x = inputs.new_zeros(batch, cfg.n_rec) if h0 is None else h0.expand(batch, -1)
        if self.gate is None:
            w_t = self.recurrence.effective_weight().T
            states, rates = leaky_scan(drive, x, w_t, cfg.alpha, cfg.activation, keep, value)
        else:
            w_t, wg_t = self.recurrence.effective_weight().T, self.gate.rate_weight.T
            gate_drive = self.gate.input_drive(inputs)  # [T, B, N]
            states, rates = gated_scan(
                drive, gate_drive, x, w_t, wg_t, cfg.alpha, cfg.activation, keep, value
            )
        # the readout on the time-major rates as they lie in memory: [T, B, n_out]
        outputs = torch.addmm(
            self.readout_bias, rates.view(-1, cfg.n_rec), self.readout.effective_weight().T
        )
        outputs = outputs.view(n_steps, batch, -1).transpose(0, 1).contiguous()
        states, rates = states.transpose(0, 1), rates.transpose(0, 1)
        return Rollout(outputs=outputs, states=states, rates=rates)

    def velocity(self, x: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """dx/dt (per ms) of the noise-free continuous-time dynamics at states ``x [..., n_rec]``
        and constant inputs ``inputs [..., n_in]`` (broadcast against each other):

            tau dx/dt = -x + s(x, u) * (W f(x)) + W_in u + b,   s = 1 without gating.

        Differentiable in ``x``; the Euler step of ``forward`` is ``x + dt * velocity``.
        """
        r = self.activation(x)
        current = r @ self.recurrence.effective_weight().T
        drive = inputs @ self.input.effective_weight().T + self.bias
        if self.gate is not None:
            gate = torch.sigmoid(
                inputs @ self.gate.input_weight.T + self.gate.bias + r @ self.gate.rate_weight.T
            )
            current = gate * current
        return (current + drive - x) / self.config.tau

    def _noise_generator(self, device: torch.device) -> torch.Generator:
        if self.noise_generator.device != torch.device(device):
            seed = int(torch.randint(2**62, (1,), generator=self.noise_generator))
            self.noise_generator = torch.Generator(device=device).manual_seed(seed)
        return self.noise_generator
