"""A plain Euler loop written straight from the rate RNN's equations (autograd only), and the
model configs the equivalence tests run it on: every registered part, and pairs of them.

The loop reads only the model's effective weights, its alpha, its rate function and, for a
gated model, the gate's three parameters; it draws the noise in the model's order (input
noise, then recurrent noise, then any spike noise step by step with the model's own draw)
from a generator seeded like the one given to the model, and
applies interventions from their definition (``compile_interventions``' keep/value/current).
"""

from __future__ import annotations

import torch

from rnnbook.models import PARTS, ModelConfig, RateRNN
from rnnbook.models.interventions import compile_interventions

N_IN = 2


def model(seed=3, **kw) -> RateRNN:
    cfg = {"n_in": N_IN, "n_out": 2, "n_rec": 12, "dt": 20.0} | kw
    return RateRNN(ModelConfig(**cfg), seed=seed)


def reference_forward(net, inputs, *, seed=None, intervention=None):
    """(states, rates, outputs) of ``net`` on ``inputs [B, T, n_in]``."""
    cfg, f, alpha = net.config, net.activation, net.alpha
    batch, n_steps, _ = inputs.shape
    gen = torch.Generator().manual_seed(0 if seed is None else seed)
    if cfg.sigma_in > 0:
        inputs = inputs + (2 / alpha) ** 0.5 * cfg.sigma_in * torch.randn(
            inputs.shape, generator=gen
        )
    noise = torch.zeros(n_steps, batch, cfg.n_rec)
    if cfg.sigma_rec > 0:
        unit = torch.randn(n_steps * batch, cfg.n_rec, generator=gen).view(n_steps, batch, -1)
        noise = (
            unit * (2 / torch.as_tensor(alpha, dtype=torch.float64)).sqrt().float() * cfg.sigma_rec
        )
    edits = compile_interventions(intervention, n_steps, cfg.n_rec, cfg.dt)
    keep = edits.keep if edits.keep is not None else torch.ones(n_steps, cfg.n_rec)
    value = edits.value if edits.value is not None else torch.zeros(n_steps, cfg.n_rec)
    current = edits.current if edits.current is not None else torch.zeros(n_steps, cfg.n_rec)
    w = net.effective_weights()
    spiking = getattr(net.noise, "spike", False) and net.noise.factor > 0

    def sent(x, row):  # the rates a unit sends: spike noise (drawn step by step), then edits
        r = net.noise.rates(f(x), gen) if spiking else f(x)
        return keep[row] * r + value[row]

    x, states, rates = torch.zeros(batch, cfg.n_rec), [], []
    r = sent(x, 0)
    for t in range(n_steps):
        rec = r @ w.recurrent.T
        if cfg.gate == "multiplicative":
            g = net.gate
            rec = (
                torch.sigmoid(inputs[:, t] @ g.input_weight.T + r @ g.rate_weight.T + g.bias) * rec
            )
        drive = inputs[:, t] @ w.input.T + w.bias + noise[t] + current[t]
        x = (1 - alpha) * x + alpha * (rec + drive)
        states.append(x)
        r = sent(x, t)
        rates.append(r)
    states, rates = torch.stack(states, 1), torch.stack(rates, 1)
    return states, rates, rates @ w.readout.T + w.readout_bias


# every registered part alone, then pairs of them (and the model's other options)
SINGLE_PARTS = [
    {},
    {"recurrence": "dale", "input_weights": "nonnegative", "readout_weights": "nonnegative"},
    {"recurrence": "dale", "e_units": "random", "readout_weights": "excitatory"},
    {  # seed 000's EIRNN
        "recurrence": "dale",
        "e_units": "random",
        "readout_weights": "e_only",
        "init": "eirnn",
        "init_norm": "singular_value",
        "spectral_radius": 1.2,
    },
    {"recurrence": "low_rank", "rank": 2},
    {"recurrence": "low_rank", "rank": 2, "init": "brain_inspired", "sv_decay": 0.3},  # seed 004
    {"tau": (40.0, 300.0)},
    {"tau": None, "leak": 0.3},
    {"activation": "linear", "spectral_radius": 0.5},
    {"activation": "tanh"},
    {"activation": "softplus", "softplus_beta": 4.0},
    {"activation": "saturating", "rate_max": 2.0},
    {"gate": "multiplicative"},
    {"sigma_rec": 0.2, "sigma_in": 0.1},
    {"train_recurrent": False},
    {"bias": False},
    # seed 003's spike-count noise on the sent rates, each kind
    {"noise": "spike_gamma", "spike_noise_factor": 0.1, "activation": "softplus"},
    {"noise": "spike_gauss", "spike_noise_factor": 0.1, "activation": "softplus"},
    {"noise": "spike_puregauss", "spike_noise_factor": 0.02},
    {"noise": "spike_csnr", "spike_noise_factor": 0.2, "activation": "softplus"},
]
PAIRS = [
    {"recurrence": "dale", "gate": "multiplicative", "sigma_rec": 0.1, "train_recurrent": False},
    {"recurrence": "low_rank", "rank": 3, "tau": (30.0, 200.0), "activation": "tanh"},
    {"recurrence": "dale", "tau": None, "leak": 0.5, "activation": "softplus"},
    {"gate": "multiplicative", "tau": (25.0, 120.0), "sigma_rec": 0.1},
    {"recurrence": "low_rank", "gate": "multiplicative", "activation": "saturating"},
    {  # seed 003's network, gated, with input and recurrent noise too
        "recurrence": "dale",
        "e_frac": 0.5,
        "tau": (40.0, 300.0),
        "sort_taus": True,
        "gate": "multiplicative",
        "noise": "spike_gamma",
        "spike_noise_factor": 0.05,
        "sigma_rec": 0.1,
        "activation": "softplus",
    },
]
PART_CONFIGS = SINGLE_PARTS + PAIRS


def covered_parts() -> dict[str, set[str]]:
    """Which entry of each registry some config of ``PART_CONFIGS`` uses."""
    used = {part: set() for part in PARTS}
    for kw in PART_CONFIGS:
        cfg = ModelConfig(**({"n_in": N_IN, "n_out": 2, "n_rec": 12, "dt": 20.0} | kw))
        for part in PARTS:
            used[part].add(getattr(cfg, part))
    return used
