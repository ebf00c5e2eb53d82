"""A tiny GRU (registry ``MODELS["gru"]``): the baseline of seed 004, after Ji-An, Benna & Mattar
(2025), whose GRUs of 1-4 units fit animals' choices on these very tasks.

Seed 004's ``TinyGRU`` is a hand-written cell whose gates act on the concatenation ``[u, h]``
(``u``: the step's input, ``h``: the hidden state); the same here, with ``n_rec`` units
(the original: 4):

    z = sigmoid(W_z [u, h] + b_z)           update gate
    g = sigmoid(W_g [u, h] + b_g)           reset gate
    c = tanh(W_h [u, g * h] + b_h)          candidate
    h' = (1 - z) * h + z * c
    y = W_out h' + b_out                    logits, at every step

Each ``W`` is [n_rec, n_in + n_rec]: its first ``n_in`` columns read the input, the rest the
state (:meth:`TinyGRU.recurrent_weight`). Initial values as ``torch.nn.Linear``'s,
U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from the seed's ``init`` stream; ``h0 = 0``. The forward
pass returns the same :class:`~rnnbook.models.rate_rnn.Rollout` as the rate RNN (``states`` and
``rates`` are both ``h``), so ``train``, ``fit`` and the run cache take it as they take a
``RateRNN``. Of ``ModelConfig`` it reads ``n_in``, ``n_out``, ``n_rec``, ``dt`` and ``bias``;
fields that would change a rate RNN's dynamics (recurrence, noise, gate, weight constraints,
fixed recurrence) must keep their defaults (:meth:`TinyGRU.check_config`), and the rest (time
constants, rate function, initial norm) are not used.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from rnnbook.models.config import ModelConfig
from rnnbook.models.init import linear_default
from rnnbook.models.interventions import Intervention, compile_interventions
from rnnbook.models.rate_rnn import Rollout
from rnnbook.seeding import Seeds

GATES = ("z", "g", "h")  # update, reset, candidate
# ModelConfig fields a GRU cannot honour: each must keep this value
FIXED_FIELDS = {
    "recurrence": "dense",
    "train_recurrent": True,
    "input_weights": "free",
    "readout_weights": "free",
    "gate": "none",
    "sigma_rec": 0.0,
    "sigma_in": 0.0,
}


class TinyGRU(nn.Module):
    """``TinyGRU(config, seed=0)``: a GRU of ``config.n_rec`` units (module docstring)."""

    def __init__(self, config: ModelConfig, *, seed: int = 0):
        super().__init__()
        self.check_config(config)
        config.check_resolved()
        self.config = config
        gen = Seeds.from_seed(seed).generator("init")
        n_in, n_rec = config.n_in, config.n_rec
        for gate in GATES:
            weight = linear_default(n_rec, n_in + n_rec, generator=gen)
            self.register_parameter(f"weight_{gate}", nn.Parameter(weight))
            self._bias(f"bias_{gate}", uniform(n_rec, n_in + n_rec, gen))
        self.readout = nn.Parameter(linear_default(config.n_out, n_rec, generator=gen))
        self._bias("readout_bias", uniform(config.n_out, n_rec, gen))

    def _bias(self, name: str, value: torch.Tensor) -> None:
        if self.config.bias:
            self.register_parameter(name, nn.Parameter(value))
        else:  # fixed at zero, never trained
            self.register_buffer(name, torch.zeros_like(value))

    @staticmethod
    def check_config(config: ModelConfig) -> None:
        """ValueError naming the first ``ModelConfig`` field a GRU cannot honour."""
        for name, value in FIXED_FIELDS.items():
            if getattr(config, name) != value:
                raise ValueError(
                    f"ModelConfig.{name} = {getattr(config, name)!r} is not allowed with the "
                    f"GRU (RunSpec.model = 'gru'): it has no such part: want {name} = {value!r}"
                )

    @property
    def tau(self) -> float:
        """``dt``: one step of the GRU is one map iteration (``velocity`` is per ms)."""
        return self.config.dt

    def recurrent_weight(self, gate: str = "h") -> torch.Tensor:
        """[n_rec, n_rec] the columns of ``W_<gate>`` that read the state (gate z, g or h)."""
        return getattr(self, f"weight_{gate}")[:, self.config.n_in :]

    def step(self, h: torch.Tensor, u: torch.Tensor, current=None) -> torch.Tensor:
        """One GRU update: ``h [..., n_rec]``, ``u [..., n_in]`` -> ``h' [..., n_rec]``;
        ``current`` [..., n_rec] (optional) is added to the candidate's input."""
        n_in = self.config.n_in
        x_part = {g: u @ getattr(self, f"weight_{g}")[:, :n_in].T for g in GATES}
        return self._update(h, x_part, current)

    def _update(self, h, x_part: dict, current=None) -> torch.Tensor:
        z = torch.sigmoid(x_part["z"] + h @ self.recurrent_weight("z").T + self.bias_z)
        g = torch.sigmoid(x_part["g"] + h @ self.recurrent_weight("g").T + self.bias_g)
        drive = x_part["h"] + (g * h) @ self.recurrent_weight("h").T + self.bias_h
        if current is not None:
            drive = drive + current
        return h + z * (torch.tanh(drive) - h)

    def forward(
        self,
        inputs: torch.Tensor,
        h0: torch.Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
        intervention: Intervention | Sequence[Intervention] | None = None,
    ) -> Rollout:
        """Run on ``inputs [B, T, n_in]`` from ``h0 [B, n_rec]`` (zeros if None); returns
        outputs [B, T, n_out] and states = rates [B, T, n_rec] (after each step's update).
        ``generator``: unused (the GRU has no noise). ``intervention``: lesions and clamps
        hold units of ``h`` after each update, perturbations add to the candidate's input."""
        batch, n_steps, _ = inputs.shape
        n_in, n_rec = self.config.n_in, self.config.n_rec
        edits = compile_interventions(
            intervention, n_steps, n_rec, self.config.dt, dtype=inputs.dtype, device=inputs.device
        )
        # the input part of every gate, for all steps at once: [B, T, n_rec] each
        x_part = {g: inputs @ getattr(self, f"weight_{g}")[:, :n_in].T for g in GATES}
        h = inputs.new_zeros(batch, n_rec) if h0 is None else h0.expand(batch, -1)
        states = []
        for t in range(n_steps):
            current = None if edits.current is None else edits.current[t]
            h = self._update(h, {g: x[:, t] for g, x in x_part.items()}, current)
            if edits.keep is not None:
                h = h * edits.keep[t] + edits.value[t]
            states.append(h)
        states = torch.stack(states, dim=1)  # [B, T, n_rec]
        outputs = states @ self.readout.T + self.readout_bias
        return Rollout(outputs=outputs, states=states, rates=states)

    def velocity(self, x: torch.Tensor, inputs: torch.Tensor, **_) -> torch.Tensor:
        """``(step(x, u) - x) / dt`` [..., n_rec]: zero at the fixed points of the GRU's map, so
        ``find_fixed_points`` (with ``tau = dt``) finds them."""
        return (self.step(x, inputs) - x) / self.config.dt


def uniform(size: int, fan_in: int, generator: torch.Generator) -> torch.Tensor:
    """[size] U(-1/sqrt(fan_in), 1/sqrt(fan_in)): ``torch.nn.Linear``'s bias."""
    return (torch.rand(size, generator=generator) * 2 - 1) / fan_in**0.5
