"""Noise models (registry ``NOISES``; ``ModelConfig.noise`` names one).

``"gaussian"``: white Gaussian noise on the inputs and on the recurrent drive, scaled so that
both reach the state with amplitude ``sqrt(2 alpha) sigma`` per step (the continuous-time
convention of Song, Yang & Wang 2016):

    inputs:  u_t + sqrt(2 / alpha) sigma_in xi_t       (xi_t ~ N(0, 1) per input channel)
    drive:   ... + sqrt(2 / alpha) sigma_rec xi'_t     (per unit; alpha may be per unit)

Spike-count noise on the rates a network sends (seed 003; ``models.spike_noise``), with factor
``k = ModelConfig.spike_noise_factor`` (0: off), on top of the Gaussian noise above:

    ``"spike_gamma"``      r~ ~ Gamma(r lam, lam), lam = (dt / 1000) / k^2: var r k^2 1000 / dt
    ``"spike_gauss"``      r~ = ReLU(r + k sqrt(r 1000 / dt + 1e-10) eps)
    ``"spike_puregauss"``  r~ = ReLU(r + 15 k eps): SD 15 k Hz
    ``"spike_csnr"``       r~ ~ Gamma(kappa, kappa / r), kappa = (5 Hz dt / 1000) / k^2

Both gamma kinds have mean r (variance r / lam, and r^2 / kappa: a constant CV). The
recurrence and the readout read the same noisy rates r~ (``Rollout.rates``); the state
itself is not noisy. A noise model runs the scan (``integrate``): the gate's hand-written scan
without rate noise, ``spike_noise.noisy_scan`` (autograd) with it.

A noise model draws from the generator it is given, never from a global one.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnnbook.models import spike_noise


class GaussianNoise(nn.Module):
    """Gaussian noise on the inputs and the recurrent drive (``sigma_in``, ``sigma_rec``)."""

    spike = False  # whether it reads ModelConfig.spike_noise_factor

    def __init__(self, config):
        super().__init__()
        self.sigma_in, self.sigma_rec = config.sigma_in, config.sigma_rec

    def integrate(self, gate, drive, inputs, x0, w_t, alpha, f, keep, value, *, generator):
        """(states, rates), both [T, B, N]: the gate's scan over ``drive [T, B, N]`` from ``x0
        [B, N]`` (``inputs [B, T, n_in]``: for a gate; keep, value: an intervention)."""
        return gate.integrate(drive, inputs, x0, w_t, alpha, f, keep, value)

    def inputs(self, inputs: torch.Tensor, alpha, generator: torch.Generator) -> torch.Tensor:
        """``inputs [B, T, n_in]`` with input noise (themselves when sigma_in = 0)."""
        if self.sigma_in == 0:
            return inputs
        scale = math.sqrt(2.0 / alpha) * self.sigma_in
        return inputs + scale * torch.randn(inputs.shape, generator=generator, device=inputs.device)

    def recurrent(
        self, shape, alpha, generator: torch.Generator, *, device=None, out=None
    ) -> torch.Tensor | None:
        """The recurrent noise of one forward pass, [..., n_rec] of ``shape`` (into ``out`` if
        given), already scaled; None when sigma_rec = 0 (nothing is drawn)."""
        if self.sigma_rec == 0:
            return None
        noise = torch.randn(shape, generator=generator, device=device, out=out)
        if isinstance(alpha, torch.Tensor):  # per unit, in float64 and rounded once
            return noise.mul_(((2.0 / alpha.double()).sqrt() * self.sigma_rec).to(noise.dtype))
        return noise.mul_(math.sqrt(2.0 / alpha) * self.sigma_rec)


class SpikeNoise(GaussianNoise):
    """Base of the spike-count noise models: ``rates(r, generator)`` draws the noisy rates
    [...] of rates ``r`` [...] (Hz); ``factor`` is k (a noise curriculum may change it
    during training: ``training.callbacks.NoiseCurriculum``)."""

    spike = True
    draw = None  # one of models.spike_noise's draws

    def __init__(self, config):
        super().__init__(config)
        self.factor, self.dt = config.spike_noise_factor, config.dt

    def rates(self, r: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self.draw(r, self.factor, self.dt, generator)

    def integrate(self, gate, drive, inputs, x0, w_t, alpha, f, keep, value, *, generator):
        """As ``GaussianNoise.integrate``, with the sent rates noisy when ``factor > 0``."""
        if self.factor == 0:
            return gate.integrate(drive, inputs, x0, w_t, alpha, f, keep, value)
        return spike_noise.noisy_scan(
            self, gate, drive, inputs, x0, w_t, alpha, f, keep, value, generator
        )

    def extra_repr(self) -> str:
        return f"factor={self.factor:g}, dt={self.dt:g}"


class GammaSpikes(SpikeNoise):
    draw = staticmethod(spike_noise.gamma_rates)


class GaussSpikes(SpikeNoise):
    draw = staticmethod(spike_noise.gauss_rates)


class PureGaussSpikes(SpikeNoise):
    draw = staticmethod(spike_noise.puregauss_rates)


class ConstantCVSpikes(SpikeNoise):
    draw = staticmethod(spike_noise.csnr_rates)


NOISES = {
    "gaussian": GaussianNoise,
    "spike_gamma": GammaSpikes,
    "spike_gauss": GaussSpikes,
    "spike_puregauss": PureGaussSpikes,
    "spike_csnr": ConstantCVSpikes,
}
