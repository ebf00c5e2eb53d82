"""The time loop as the source studies write it: a reference for the benchmarks, not rnnbook.

Per time step it calls ``nn.Linear``-style modules for the input and for the recurrence,
recomputes the Dale-signed weight ``|W| * sign`` inside that call, draws the noise with
``torch.randn`` and updates the state; the readout is applied once after the loop (the cheap
way round, which favours the textbook). The matmul FLOPs are those of ``rnnbook``'s RateRNN.
Both models copy their initial weights from a RateRNN, so a comparison starts from the same
network and differs only in how the loop is written (and in the rate form of ``TextbookRNN``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from rnnbook.models.dale import dale_signs
from rnnbook.seeding import Seeds
from rnnbook.tasks import Task


class SignedLinear(nn.Linear):
    """``nn.Linear`` whose weight is ``|W| * sign[pre]``, recomputed at every call."""

    def __init__(self, n_in: int, n_out: int, sign: torch.Tensor, *, bias: bool):
        super().__init__(n_in, n_out, bias=bias)
        self.register_buffer("sign", sign)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight.abs() * self.sign, self.bias)


class TextbookRNN(nn.Module):
    """Workload A: ``h = (1 - alpha) h + alpha relu(W_in u_t + W h + b) + noise``, Dale's law.

    Input and readout weights are non-negative (``|W|``), recurrent columns signed E/I.
    forward: inputs [B, T, n_in] -> outputs [B, T, n_out].
    """

    def __init__(self, rate_rnn: nn.Module):
        super().__init__()
        cfg = rate_rnn.config
        self.alpha, self.n_rec = cfg.alpha, cfg.n_rec
        self.noise_std = math.sqrt(2 * cfg.alpha) * cfg.sigma_rec
        self.input = SignedLinear(cfg.n_in, cfg.n_rec, torch.ones(cfg.n_in), bias=True)
        signs = dale_signs(cfg.n_rec, cfg.n_excitatory)
        self.recurrence = SignedLinear(cfg.n_rec, cfg.n_rec, signs, bias=False)
        self.readout = SignedLinear(cfg.n_rec, cfg.n_out, torch.ones(cfg.n_rec), bias=True)
        with torch.no_grad():  # start from the RateRNN's initial weights
            self.input.weight.copy_(rate_rnn.input.weight_raw)
            self.input.bias.copy_(rate_rnn.bias)
            self.recurrence.weight.copy_(rate_rnn.recurrence.weight_raw)
            self.readout.weight.copy_(rate_rnn.readout.weight_raw)
            self.readout.bias.copy_(rate_rnn.readout_bias)

    def forward(self, inputs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        batch, n_steps, _ = inputs.shape
        h = inputs.new_zeros(batch, self.n_rec)
        states = []
        for t in range(n_steps):
            noise = self.noise_std * torch.randn(batch, self.n_rec, generator=generator)
            drive = self.input(inputs[:, t]) + self.recurrence(h)
            h = (1 - self.alpha) * h + self.alpha * torch.relu(drive) + noise
            states.append(h)
        return self.readout(torch.stack(states, dim=1))  # [B, T, n_out]


class TextbookIntegrator(nn.Module):
    """Workload B (seed 002's Net1): ``x += alpha (-x + G tanh(x) + W_in u_t + b)``, G fixed.

    forward: inputs [B, T, n_in] -> outputs [B, T, n_out] = readout(tanh(x)).
    """

    def __init__(self, rate_rnn: nn.Module):
        super().__init__()
        cfg = rate_rnn.config
        self.alpha, self.n_rec = cfg.alpha, cfg.n_rec
        self.input = nn.Linear(cfg.n_in, cfg.n_rec)
        self.recurrence = nn.Linear(cfg.n_rec, cfg.n_rec, bias=False).requires_grad_(False)
        self.readout = nn.Linear(cfg.n_rec, cfg.n_out)
        with torch.no_grad():
            self.input.weight.copy_(rate_rnn.input.effective_weight())
            self.input.bias.copy_(rate_rnn.bias)
            self.recurrence.weight.copy_(rate_rnn.recurrence.effective_weight())
            self.readout.weight.copy_(rate_rnn.readout.effective_weight())
            self.readout.bias.copy_(rate_rnn.readout_bias)

    def forward(self, inputs: torch.Tensor, generator: torch.Generator | None = None):
        batch, n_steps, _ = inputs.shape
        x = inputs.new_zeros(batch, self.n_rec)
        states = []
        for t in range(n_steps):
            x = x + self.alpha * (-x + self.recurrence(torch.tanh(x)) + self.input(inputs[:, t]))
            states.append(x)
        return self.readout(torch.tanh(torch.stack(states, dim=1)))  # [B, T, n_out]


def train_textbook(
    model: nn.Module,
    task: Task,
    loss_fn: Callable,
    *,
    n_steps: int,
    batch_size: int,
    lr: float = 1e-3,
    grad_clip: float = 1.0,
    seed: int = 0,
    on_step_end: Callable[[], None] = lambda: None,
) -> list[float]:
    """The plain training loop: sample, forward, loss, backward, clip, Adam. Returns losses.

    Trials and noise come from the generators rnnbook's ``train(seed=seed)`` uses, so both
    see the same trial tensors.
    """
    seeds = Seeds.from_seed(seed)
    task_gen, noise_gen = seeds.generator("trials"), seeds.generator("noise")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    losses = []
    for _ in range(n_steps):
        trials = task.sample(batch_size, generator=task_gen)
        loss = loss_fn(model(trials.inputs, noise_gen), trials.targets, trials.mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()
        losses.append(loss.item())
        on_step_end()
    return losses
