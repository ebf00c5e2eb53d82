"""Noise models (registry ``NOISES``; ``ModelConfig.noise`` names one).

``"gaussian"``: white Gaussian noise on the inputs and on the recurrent drive, scaled so that
both reach the state with amplitude ``sqrt(2 alpha) sigma`` per step (the continuous-time
convention of Song, Yang & Wang 2016):

    inputs:  u_t + sqrt(2 / alpha) sigma_in xi_t       (xi_t ~ N(0, 1) per input channel)
    drive:   ... + sqrt(2 / alpha) sigma_rec xi'_t     (per unit; alpha may be per unit)

A noise model draws from the generator it is given, never from a global one. Noise on the
rates (spike-count noise, seed 003) is the next entry: the scans have the place for it, the
rate edits ``keep``/``value`` of ``models.interventions`` that act on ``r_t``.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class GaussianNoise(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.sigma_in, self.sigma_rec = config.sigma_in, config.sigma_rec

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


NOISES = {"gaussian": GaussianNoise}
