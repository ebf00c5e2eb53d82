"""``ModelConfig``: the rate RNN's sizes, time constants, noise and constraints."""

from __future__ import annotations

from dataclasses import dataclass

from rnnbook.validation import check_choice, check_nonnegative, check_positive, check_range

ACTIVATIONS = ("relu", "tanh", "softplus")
READOUTS = ("all", "excitatory")


@dataclass(frozen=True)
class ModelConfig:
    n_in: int  # input channels
    n_out: int  # output channels
    n_rec: int = 128  # recurrent units
    dt: float = 20.0  # Euler step (ms)
    tau: float = 100.0  # membrane time constant (ms)
    activation: str = "relu"  # rate nonlinearity r = f(x): relu | tanh | softplus
    sigma_rec: float = 0.0  # recurrent noise: sqrt(2 alpha) sigma_rec per step on the state
    sigma_in: float = 0.0  # input noise: sqrt(2 / alpha) sigma_in per step on each input
    spectral_radius: float = 1.0  # initial spectral radius of the effective recurrent weights
    dale: bool = False  # excitatory / inhibitory populations with fixed signs
    e_frac: float = 0.8  # fraction of excitatory units (with dale)
    readout: str = "all"  # which units the readout sees: all | excitatory (needs dale)
    gating: bool = False  # multiplicative gate on the recurrent current (RNNWithGateDale)
    train_recurrent: bool = True  # False: recurrent weights stay at their initial values
    bias: bool = True  # False: no recurrent or readout bias (fixed at zero, never trained)

    def __post_init__(self):
        for name in ("n_in", "n_out", "n_rec", "dt", "tau", "spectral_radius"):
            check_positive(self, name)
        check_range(self, "dt", 0.0, self.tau, closed="right")
        check_choice(self, "activation", ACTIVATIONS)
        check_choice(self, "readout", READOUTS)
        check_nonnegative(self, "sigma_rec")
        check_nonnegative(self, "sigma_in")
        check_range(self, "e_frac", 0.0, 1.0)
        if self.dale and not 0 < self.n_excitatory < self.n_rec:
            raise ValueError(
                f"ModelConfig.e_frac = {self.e_frac!r} leaves no excitatory or no inhibitory unit "
                f"among n_rec = {self.n_rec}: choose e_frac so both populations are non-empty"
            )
        if self.readout == "excitatory" and not self.dale:
            raise ValueError(
                "ModelConfig.readout = 'excitatory' needs dale = True (no populations otherwise)"
            )

    @property
    def alpha(self) -> float:
        """dt / tau: the fraction of the way to its input the state moves in one step."""
        return self.dt / self.tau

    @property
    def n_excitatory(self) -> int:
        return round(self.e_frac * self.n_rec) if self.dale else self.n_rec
