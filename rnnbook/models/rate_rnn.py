"""The leaky, continuous-time rate RNN, discretised with Euler steps of ``dt``.

    x_{t+1} = (1 - alpha) x_t + alpha (g_t * W f(x_t) + W_in (u_t + n_t) + b) + sqrt(2 alpha) s xi_t
    y_t     = W_out f(x_t) + b_out,    alpha = dt / tau,    s = sigma_rec,   g_t = 1 ungated

``RateRNN`` is assembled from the registered parts its ``ModelConfig`` names
(``models.parts.PARTS``): the recurrence (dense, Dale, low rank; trained or fixed), the time
constants (one tau, per-unit taus, or a leak), the rate function, the input and readout
weights, the noise model and the gate, which runs the scan (``models.scan``,
``models.gated_scan``: hand-written backward passes). Each part is one module and one registry
entry; nothing here branches on a feature.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from rnnbook.models.config import ModelConfig
from rnnbook.models.fixed import freeze
from rnnbook.models.init import INITS
from rnnbook.models.interventions import Intervention, compile_interventions
from rnnbook.models.parts import PARTS
from rnnbook.seeding import Seeds, device_generator


@dataclass
class Rollout:
    """What a forward pass returns. outputs: [B, T, n_out]; states, rates: [B, T, n_rec].

    ``rates`` are the rates the units send, which the recurrence and the readout read: f(states)
    under no intervention and no spike noise; with spike-count noise (``models.noise``), the
    noisy rates."""

    outputs: torch.Tensor
    states: torch.Tensor
    rates: torch.Tensor


@dataclass
class Weights:
    """A model's effective weights: what the dynamics use, whatever the parametrisation.

    recurrent: [n_rec, n_rec] (post, pre); input: [n_rec, n_in]; readout: [n_out, n_rec];
    bias: [n_rec]; readout_bias: [n_out].
    """

    recurrent: torch.Tensor
    input: torch.Tensor
    readout: torch.Tensor
    bias: torch.Tensor
    readout_bias: torch.Tensor


class RateRNN(nn.Module):
    """Leaky rate RNN composed of registered parts (see the module docstring).

    ``RateRNN(config, seed=0)``: ``config`` must have ``n_in``, ``n_out`` and ``dt`` (from its
    task: ``config.for_task(task)``); the seed's ``init`` stream (``rnnbook.seeding``) draws
    the initial parameters, and its ``noise`` stream is the model's default noise generator.
    """

    def __init__(self, config: ModelConfig, *, seed: int = 0):
        super().__init__()
        config.check_resolved()
        self.config = config
        seeds = Seeds.from_seed(seed)
        gen = seeds.generator("init")
        self.noise_generator = seeds.generator("noise")
        init = INITS[config.init]
        w_in, w_out = init.input(config, gen), init.readout(config, gen)
        self.recurrence = PARTS["recurrence"][config.recurrence](config, generator=gen)
        if not config.train_recurrent:
            freeze(self.recurrence)
        signs = self.recurrence.signs
        self.input = PARTS["input_weights"][config.input_weights](w_in, signs)
        self.readout = PARTS["readout_weights"][config.readout_weights](w_out, signs)
        self.gate = PARTS["gate"][config.gate](config, generator=gen, signs=signs)
        self.time_constants = PARTS["time_constants"][config.time_constants](
            config, generator=gen, signs=signs
        )
        self.noise = PARTS["noise"][config.noise](config)
        if config.h0_std > 0:  # drawn last: the weights are those of h0_std = 0
            x0 = config.h0_std * torch.randn(config.n_rec, generator=gen)
            self.register_buffer("initial_state", x0)  # fixed, never trained
        self.activation = PARTS["activation"][config.activation].from_config(config)
        bias, readout_bias = torch.zeros(config.n_rec), torch.zeros(config.n_out)
        if config.bias:
            self.bias, self.readout_bias = nn.Parameter(bias), nn.Parameter(readout_bias)
        else:  # buffers: in the state dict and moved by .to(), never trained
            self.register_buffer("bias", bias)
            self.register_buffer("readout_bias", readout_bias)

    @property
    def alpha(self) -> float | torch.Tensor:
        """dt / tau: a number, or [n_rec] for per-unit time constants."""
        return self.time_constants.alpha

    @property
    def tau(self) -> float | torch.Tensor:
        """The time constant(s) in ms: a number, or [n_rec]."""
        return self.time_constants.tau

    def forward(
        self,
        inputs: torch.Tensor,
        h0: torch.Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
        intervention: Intervention | Sequence[Intervention] | None = None,
    ) -> Rollout:
        """Run the network on ``inputs [B, T, n_in]`` from ``h0 [B, n_rec]`` (if None: the
        model's fixed ``initial_state`` [n_rec] where ``ModelConfig.h0_std`` > 0, else zeros).

        ``generator`` draws the noise, input and recurrent noise first, then any spike noise
        step by step (default: the model's own noise generator; analyses
        always pass their own). ``intervention``: a lesion, clamp, perturbation or gain
        (``models.interventions``), or a list of them, applied in this call only.
        """
        cfg = self.config
        batch, n_steps, _ = inputs.shape
        gen = self._noise_generator(inputs.device) if generator is None else generator
        inputs = self.noisy_inputs(inputs, gen)
        # drive[t] = W_in u_t + b (+ recurrent noise / alpha), for all steps in one op: [T, B, N]
        u = inputs.transpose(0, 1).reshape(n_steps * batch, -1)
        drive = torch.addmm(self.bias, u, self.input.effective_weight().T)
        noise = self.recurrent_noise(drive.shape, gen)
        if noise is not None:
            drive = drive + noise
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
        if h0 is None:
            h0 = getattr(self, "initial_state", None)
        x = inputs.new_zeros(batch, cfg.n_rec) if h0 is None else h0.expand(batch, -1)
        w_t = self.recurrence.effective_weight().T
        states, rates = self.noise.integrate(
            self.gate,
            drive,
            inputs,
            x,
            w_t,
            self.alpha,
            self.activation,
            keep,
            value,
            generator=gen,
        )
        # the readout on the time-major rates as they lie in memory: [T, B, n_out]
        outputs = torch.addmm(
            self.readout_bias, rates.view(-1, cfg.n_rec), self.readout.effective_weight().T
        )
        outputs = outputs.view(n_steps, batch, -1).transpose(0, 1).contiguous()
        return Rollout(outputs=outputs, states=states.transpose(0, 1), rates=rates.transpose(0, 1))

    def noisy_inputs(self, inputs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """``inputs [B, T, n_in]`` with the noise model's input noise, drawn from ``generator``
        (the first draw of a forward pass)."""
        return self.noise.inputs(inputs, self.alpha, generator)

    def recurrent_noise(self, shape, generator: torch.Generator, *, out=None):
        """The scaled recurrent noise [T * B, n_rec] of a forward pass (its second draw, into
        ``out`` if given), or None without recurrent noise."""
        device = generator.device if out is None else out.device
        return self.noise.recurrent(shape, self.alpha, generator, device=device, out=out)

    def velocity(
        self, x: torch.Tensor, inputs: torch.Tensor, *, rates: torch.Tensor | None = None
    ) -> torch.Tensor:
        """dx/dt (per ms) of the noise-free continuous-time dynamics at states ``x [..., n_rec]``
        and constant inputs ``inputs [..., n_in]`` (broadcast against each other):

            tau dx/dt = -x + g(x, u) * (W f(x)) + W_in u + b,   g = 1 without gating.

        Differentiable in ``x``; the Euler step of ``forward`` is ``x + dt * velocity``.
        ``rates``: f(x) computed by the caller (an analysis that needs the gradient with
        respect to the very rates the recurrence reads passes its own); default f(x).
        """
        r = self.activation(x) if rates is None else rates
        current = self.gate.current(r, inputs, r @ self.recurrence.effective_weight().T)
        drive = inputs @ self.input.effective_weight().T + self.bias
        return (current + drive - x) * (self.alpha / self.config.dt)

    def effective_weights(self) -> Weights:
        """The weights the dynamics use (Dale signs, masks and factors applied)."""
        return Weights(
            recurrent=self.recurrence.effective_weight(),
            input=self.input.effective_weight(),
            readout=self.readout.effective_weight(),
            bias=self.bias,
            readout_bias=self.readout_bias,
        )

    @torch.no_grad()
    def set_effective_weights(self, **weights: torch.Tensor) -> RateRNN:
        """Set any of the effective weights (names of ``Weights``) by value: a hand-built
        network (a flip-flop, a line attractor, weights from another library) needs no raw
        parameter names. A value the parametrisation cannot hold (a sign against Dale's law,
        a rank above a low-rank recurrence's) raises ValueError. Returns the model."""
        parts = {"recurrent": self.recurrence, "input": self.input, "readout": self.readout}
        unknown = set(weights) - {f.name for f in dataclasses.fields(Weights)}
        if unknown:
            raise ValueError(
                f"set_effective_weights: unknown weights {sorted(unknown)}; allowed: "
                f"{[f.name for f in dataclasses.fields(Weights)]}"
            )
        current = self.effective_weights()
        for name, value in weights.items():
            value = torch.as_tensor(value, dtype=current.bias.dtype, device=current.bias.device)
            expected = getattr(current, name).shape
            if value.shape != expected:
                raise ValueError(
                    f"set_effective_weights: {name} has shape {tuple(value.shape)}, want "
                    f"{tuple(expected)}"
                )
            if name in parts:
                parts[name].set_effective_weight(value)
            else:
                getattr(self, name).copy_(value)
        return self

    def without_noise(self) -> RateRNN:
        """A copy of this model with its noise switched off (same weights)."""
        quiet = copy.deepcopy(self)
        quiet.config = dataclasses.replace(
            self.config, sigma_in=0.0, sigma_rec=0.0, spike_noise_factor=0.0
        )
        quiet.noise = PARTS["noise"][quiet.config.noise](quiet.config)
        return quiet

    def _noise_generator(self, device: torch.device) -> torch.Generator:
        self.noise_generator = device_generator(self.noise_generator, device)
        return self.noise_generator
