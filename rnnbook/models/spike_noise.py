"""Spike-count noise on the rates a network sends (seed 003), and the scan that applies it.

Each draw turns the rates ``r >= 0`` (Hz) of one step into the noisy rates ``r~`` that the
recurrence and the readout read, with noise factor ``k`` and step ``dt`` (ms); ``eps ~ N(0, 1)``
(spec ``seed003.md`` §3.3):

- ``gamma_rates``: ``lam = (dt / 1000) / k^2``, ``r~ ~ Gamma(shape = max(r lam, 1e-10), rate =
  lam)``: mean r, variance ``r / lam = r k^2 1000 / dt`` (the spike count of a gamma process
  over dt, as a rate); reparameterised, so gradients reach r through the shape;
- ``gauss_rates``: ``ReLU(r + k sqrt(r 1000 / dt + 1e-10) eps)``: about the same variance,
  Gaussian, rectified;
- ``puregauss_rates``: ``ReLU(r + 15 k eps)``: constant SD 15 k Hz, rectified;
- ``csnr_rates``: ``kappa = (r0 dt / 1000) / k^2`` with r0 = 5 Hz, ``r~ ~ Gamma(shape kappa,
  rate kappa / max(r, 1e-10))``: mean r, variance ``r^2 / kappa`` (constant CV 1 / sqrt(kappa)).

The hand-written scans (``models.scan``, ``models.gated_scan``) have no place for a random,
rate-dependent factor in their backward pass, so a network with spike noise on runs
:func:`noisy_scan` instead: the same Euler step, written with autograd (slower per step, the
same numbers without noise). Every draw comes from the generator it is given.
"""

from __future__ import annotations

import torch

from rnnbook.models.rates import as_rate_function

SHAPE_FLOOR = 1e-10  # the smallest gamma shape (seed 003's floor; a silent unit sends ~0)
CSNR_RATE = 5.0  # Hz, r0 of the constant-CV noise
PUREGAUSS_SD = 15.0  # Hz per unit of k: the SD of the pure Gaussian noise


def standard_gamma(shape: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Gamma(shape, rate 1) draws of ``shape``'s shape, differentiable in ``shape`` (implicit
    reparameterisation, as ``torch.distributions.Gamma.rsample``) and drawn from ``generator``
    (which ``rsample`` cannot take)."""
    return torch._standard_gamma(shape, generator=generator)


def gamma_rates(r: torch.Tensor, k: float, dt: float, generator) -> torch.Tensor:
    """[...] noisy rates: Gamma(max(r lam, 1e-10), lam), lam = (dt / 1000) / k^2."""
    lam = (dt / 1000.0) / k**2
    return standard_gamma((r * lam).clamp_min(SHAPE_FLOOR), generator) / lam


def gauss_rates(r: torch.Tensor, k: float, dt: float, generator) -> torch.Tensor:
    """[...] noisy rates: ReLU(r + k sqrt(r 1000 / dt + 1e-10) eps)."""
    eps = torch.randn(r.shape, generator=generator, device=r.device, dtype=r.dtype)
    return torch.relu(r + k * torch.sqrt(r * (1000.0 / dt) + SHAPE_FLOOR) * eps)


def puregauss_rates(r: torch.Tensor, k: float, dt: float, generator) -> torch.Tensor:
    """[...] noisy rates: ReLU(r + 15 k eps) (SD 15 k Hz whatever the rate and dt)."""
    eps = torch.randn(r.shape, generator=generator, device=r.device, dtype=r.dtype)
    return torch.relu(r + PUREGAUSS_SD * k * eps)


def csnr_rates(r: torch.Tensor, k: float, dt: float, generator) -> torch.Tensor:
    """[...] noisy rates: Gamma(kappa, kappa / max(r, 1e-10)), kappa = (5 Hz dt / 1000) / k^2."""
    kappa = (CSNR_RATE * dt / 1000.0) / k**2
    draws = standard_gamma(torch.full_like(r, kappa), generator)
    return draws * (r.clamp_min(SHAPE_FLOOR) / kappa)


def sent_rates(noise, r, keep, value, t: int, generator) -> torch.Tensor:
    """The rates sent at step t: ``keep[t] * noise(r) + value[t]`` under an intervention (a
    lesioned unit sends exactly 0, a clamped one its value), else ``noise(r)``."""
    noisy = noise.rates(r, generator)
    return noisy if keep is None else noisy * keep[t] + value[t]


def noisy_scan(noise, gate, drive, inputs, x0, w_t, alpha, activation, keep, value, generator):
    """Euler-integrate the leaky RNN with spike noise on the sent rates, by autograd.

        r~_t = noise(f(x_t)),   x_{t+1} = lerp(x_t, drive_t + g(r~_t, u_t) * (r~_t @ w_t), alpha)

    noise: a model with ``rates(r, generator)``; gate: the model's gate (its ``current``);
    drive: [T, B, N]; inputs: [B, T, n_in] (for a gate); x0: [B, N]; w_t: [N, N] (pre, post);
    alpha: a number or [N]; keep, value: [T + 1, N] or None (an intervention on the rates).
    Returns ``(states, rates)``, both [T, B, N]: ``states[t] = x_{t+1}``, ``rates[t] = r~_{t+1}``
    (the noisy rates the readout reads, drawn once a step: the recurrence reads the same).
    """
    f = as_rate_function(activation)
    x = x0.expand_as(drive[0])
    u = inputs.transpose(0, 1)  # [T, B, n_in]
    r = sent_rates(noise, f(x), keep, value, 0, generator)
    states, rates = [], []
    for t in range(drive.shape[0]):
        current = gate.current(r, u[t], r @ w_t)
        x = torch.lerp(x, drive[t] + current, alpha)
        r = sent_rates(noise, f(x), keep, value, t + 1, generator)
        states.append(x)
        rates.append(r)
    return torch.stack(states), torch.stack(rates)
