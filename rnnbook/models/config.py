"""``ModelConfig``: the rate RNN's sizes and the registered parts it is composed of.

``n_in``, ``n_out`` and ``dt`` belong to the task: leave them None and a ``RunSpec`` (or
``ModelConfig.for_task``) fills them in from the task, refusing a value that disagrees.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from rnnbook.models.init import LOW_RANK_ONLY
from rnnbook.models.parts import PARTS
from rnnbook.models.weights import NEEDS_POPULATIONS
from rnnbook.validation import (
    check_choice,
    check_integer,
    check_nonnegative,
    check_number,
    check_positive,
    check_range,
    check_type,
    coerce_tuple,
    is_number,
)

E_UNITS = ("first", "random")
TASK_FIELDS = ("n_in", "n_out", "dt")  # sizes and time step that come from the task
SPIKE_NOISE_RANGE = (1e-6, 100.0)  # allowed spike_noise_factor k, besides 0 (off)


@dataclass(frozen=True)
class ModelConfig:
    n_in: int | None = None  # input channels (None: from the task)
    n_out: int | None = None  # output channels (None: from the task)
    n_rec: int = 128  # recurrent units
    dt: float | None = None  # Euler step, ms (None: from the task)
    # time constants: tau a number (ms), or (low, high) for per-unit taus log-uniform in
    # [low, high] (a fixed buffer); or tau=None and leak = alpha given directly (tau = dt / leak)
    tau: float | tuple[float, float] | None = 100.0
    leak: float | None = None  # discrete leak alpha in (0, 1] (with tau=None)
    sort_taus: bool = False  # per-unit taus sorted ascending within E and within I (seed 003)
    activation: str = "relu"  # rate function r = f(x) (models.rates): linear | relu | tanh | ...
    softplus_beta: float = 1.0  # beta of activation="softplus"
    rate_max: float = 60.0  # saturation rate of activation="saturating"
    recurrence: str = "dense"  # dense | dale (column-wise signs) | low_rank (m n^T + M N^T)
    train_recurrent: bool = True  # False: recurrent weights stay at their initial values
    spectral_radius: float = 1.0  # initial norm (init_norm) of the effective recurrent weights
    # weight initialisation (models.init): gaussian | eirnn (seed 000's: kaiming-uniform, column
    # signs, columns divided by their mean |w|; input kaiming-, readout xavier-uniform)
    init: str = "gaussian"
    # what spectral_radius sets: spectral_radius (largest |eigenvalue|) | singular_value
    # (largest singular value, seed 000's "spectral radius")
    init_norm: str = "spectral_radius"
    e_frac: float = 0.8  # fraction of excitatory units (recurrence="dale")
    e_units: str = "first"  # which units are excitatory: first | random (a permutation)
    rank: int = 1  # r of recurrence="low_rank": W = m n^T + M N^T, M and N with r columns
    # gamma of seed 004's SV-decay initialisation (recurrence="low_rank"): column i of M and N
    # times sqrt(t_i), t_i = exp(-gamma i) normalised to sum r; 0: no decay (models.low_rank)
    sv_decay: float = 0.0
    input_weights: str = "free"  # free | nonnegative
    # free | nonnegative | excitatory (non-negative, E units only) | e_only (free, E units only)
    readout_weights: str = "free"
    noise: str = "gaussian"  # noise model (models.noise)
    sigma_rec: float = 0.0  # recurrent noise: sqrt(2 alpha) sigma_rec per step on the state
    sigma_in: float = 0.0  # input noise: sqrt(2 / alpha) sigma_in per step on each input
    # k of the spike-count noise on the sent rates (noise="spike_gamma" | "spike_gauss" |
    # "spike_puregauss" | "spike_csnr", models.noise): 0 (off) or in [1e-6, 100]
    spike_noise_factor: float = 0.0
    gate: str = "none"  # none | multiplicative (a sigmoid gate on the recurrent current)
    bias: bool = True  # False: no recurrent or readout bias (fixed at zero, never trained)
    # > 0: every trial starts from one fixed random state x_0 ~ N(0, h0_std^2) per unit, drawn
    # once from the seed's init stream after all weights (seed 002's h0=False: "random
    # initialization", kept fixed); 0: every trial starts at rest, x_0 = 0
    h0_std: float = 0.0

    def __post_init__(self):
        coerce_tuple(self, "tau")
        for name in ("n_in", "n_out"):
            if getattr(self, name) is not None:
                check_integer(self, name, minimum=1)
        check_integer(self, "n_rec", minimum=1)
        check_integer(self, "rank", minimum=1)
        check_nonnegative(self, "sv_decay")
        for name in ("train_recurrent", "bias"):
            check_type(self, name, bool)
        if self.dt is not None:
            check_positive(self, "dt")
        for name in ("spectral_radius", "softplus_beta", "rate_max"):
            check_positive(self, name)
        for part, registry in PARTS.items():
            if part != "time_constants":  # derived from tau / leak, checked below
                check_choice(self, part, registry)
        check_choice(self, "e_units", E_UNITS)
        check_nonnegative(self, "sigma_rec")
        check_nonnegative(self, "sigma_in")
        check_nonnegative(self, "h0_std")
        check_range(self, "e_frac", 0.0, 1.0)
        self._check_time_constants()
        self._check_populations()
        self._check_spike_noise()

    def _check_time_constants(self) -> None:
        if self.leak is not None:
            check_range(self, "leak", 0.0, 1.0, closed="right")
            if self.tau is not None:
                raise ValueError(
                    f"ModelConfig.tau = {self.tau!r} is given with ModelConfig.leak = "
                    f"{self.leak!r}: give one of them (with leak, tau = dt / leak is derived): "
                    "want tau=None"
                )
            return
        if self.tau is None:
            raise ValueError(
                "ModelConfig.tau = None is not allowed without ModelConfig.leak = None: want a "
                "time constant in ms, or the leak alpha given as leak (with tau=None)"
            )
        if isinstance(self.tau, tuple):
            low, high = self.tau if len(self.tau) == 2 else (math.nan, math.nan)
            if not (is_number(low) and is_number(high) and 0 < low <= high):
                raise ValueError(
                    f"ModelConfig.tau = {self.tau!r} is not a range of time constants: want "
                    "(low, high), finite numbers in ms with 0 < low <= high"
                )
        else:
            check_positive(self, "tau")
        if self.dt is not None and self.dt > self.tau_min:
            raise ValueError(
                f"ModelConfig.dt = {self.dt!r} is out of range: allowed (0, {self.tau_min}], the "
                f"smallest time constant of ModelConfig.tau = {self.tau!r} (an Euler step past it "
                "overshoots)"
            )
        if self.per_unit_tau and self.sigma_in > 0:
            raise ValueError(
                f"ModelConfig.sigma_in = {self.sigma_in!r} with per-unit time constants "
                f"(ModelConfig.tau = {self.tau!r}) is not allowed (input noise is scaled by one "
                "alpha): use sigma_in = 0, or one tau"
            )

    def _check_populations(self) -> None:
        if self.recurrence == "dale" and not 0 < self.n_excitatory < self.n_rec:
            raise ValueError(
                f"ModelConfig.e_frac = {self.e_frac!r} leaves no excitatory or no inhibitory unit "
                f"among ModelConfig.n_rec = {self.n_rec!r} (ModelConfig.recurrence = 'dale'): "
                "choose e_frac and n_rec so both populations are non-empty"
            )
        if self.readout_weights in NEEDS_POPULATIONS and self.recurrence != "dale":
            raise ValueError(
                f"ModelConfig.readout_weights = {self.readout_weights!r} is not allowed with "
                f"ModelConfig.recurrence = {self.recurrence!r}: it needs recurrence = 'dale' "
                "(the populations)"
            )
        if self.init == "eirnn" and self.recurrence == "low_rank":
            raise ValueError(
                "ModelConfig.init = 'eirnn' is not allowed with ModelConfig.recurrence = "
                "'low_rank' (it initialises a full matrix, not factors): want init = 'gaussian', "
                "or recurrence dense or dale"
            )
        self._check_low_rank_init()
        if self.recurrence == "low_rank" and self.rank + 1 > self.n_rec:
            raise ValueError(
                f"ModelConfig.rank = {self.rank!r} is out of range for ModelConfig.n_rec = "
                f"{self.n_rec!r} (ModelConfig.recurrence = 'low_rank'): allowed 1 .. n_rec - 1 = "
                f"{self.n_rec - 1}"
            )

    def _check_low_rank_init(self) -> None:
        low_rank = self.recurrence == "low_rank"
        if self.init in LOW_RANK_ONLY and not low_rank:
            raise ValueError(
                f"ModelConfig.init = {self.init!r} is not allowed with ModelConfig.recurrence = "
                f"{self.recurrence!r}: it initialises low-rank factors: want recurrence = "
                "'low_rank', or init = 'gaussian'"
            )
        if self.init in LOW_RANK_ONLY and self.spectral_radius != 1.0:
            raise ValueError(
                f"ModelConfig.spectral_radius = {self.spectral_radius!r} is not used with "
                f"ModelConfig.init = {self.init!r} (its factors are drawn at a fixed SD, not "
                "rescaled): leave it at 1.0, or use init = 'gaussian'"
            )
        if self.sv_decay > 0 and not low_rank:
            raise ValueError(
                f"ModelConfig.sv_decay = {self.sv_decay!r} is not allowed with "
                f"ModelConfig.recurrence = {self.recurrence!r}: it shapes low-rank factors: "
                "want recurrence = 'low_rank', or sv_decay = 0"
            )

    def _check_spike_noise(self) -> None:
        check_type(self, "sort_taus", bool)
        if self.sort_taus and not self.per_unit_tau:
            raise ValueError(
                f"ModelConfig.sort_taus = True is not allowed with ModelConfig.tau = {self.tau!r}"
                f" (ModelConfig.leak = {self.leak!r}): it sorts per-unit taus: want tau = (low, "
                "high), or sort_taus = False"
            )
        k = check_number(self, "spike_noise_factor")
        if not (k == 0 or SPIKE_NOISE_RANGE[0] <= k <= SPIKE_NOISE_RANGE[1]):
            raise ValueError(
                f"ModelConfig.spike_noise_factor = {k!r} is out of range: allowed 0 (off) or "
                f"[{SPIKE_NOISE_RANGE[0]:g}, {SPIKE_NOISE_RANGE[1]:g}]"
            )
        if k > 0 and not PARTS["noise"][self.noise].spike:
            spiking = tuple(name for name, part in PARTS["noise"].items() if part.spike)
            raise ValueError(
                f"ModelConfig.spike_noise_factor = {k!r} is not allowed with ModelConfig.noise = "
                f"{self.noise!r}, which has no spike-count noise: choose noise from {spiking}, or "
                "spike_noise_factor = 0"
            )
        if k > 0 and not PARTS["activation"][self.activation].nonnegative:
            raise ValueError(
                f"ModelConfig.activation = {self.activation!r} is not allowed with spike-count "
                f"noise (ModelConfig.noise = {self.noise!r}, spike_noise_factor = {k!r}): spike "
                "counts need rates >= 0: choose relu, softplus or saturating"
            )

    @property
    def per_unit_tau(self) -> bool:
        return isinstance(self.tau, tuple)

    @property
    def tau_min(self) -> float:
        """The smallest time constant (ms)."""
        if self.leak is not None:
            return self.dt / self.leak if self.dt is not None else math.inf
        return self.tau[0] if self.per_unit_tau else self.tau

    @property
    def time_constants(self) -> str:
        """The registered time-constant kind: scalar | log_uniform | leak."""
        if self.leak is not None:
            return "leak"
        return "log_uniform" if self.per_unit_tau else "scalar"

    @property
    def alpha(self) -> float:
        """dt / tau for one time constant (or ``leak``): the fraction of the way to its input
        the state moves in one step. Per-unit time constants: ``RateRNN.alpha`` ([n_rec])."""
        if self.leak is not None:
            return self.leak
        if self.per_unit_tau:
            raise ValueError(
                f"ModelConfig.alpha: tau = {self.tau!r} gives one alpha per unit; "
                "read RateRNN.alpha instead"
            )
        return self.dt / self.tau

    @property
    def n_excitatory(self) -> int:
        return round(self.e_frac * self.n_rec) if self.recurrence == "dale" else self.n_rec

    def for_task(self, task) -> ModelConfig:
        """This config with ``n_in``, ``n_out`` and ``dt`` from ``task``; ValueError naming both
        values when one is given here and disagrees."""
        changes = {}
        for name in TASK_FIELDS:
            ours, theirs = getattr(self, name), getattr(task, name)
            if ours is None:
                changes[name] = theirs
            elif ours != theirs:
                raise ValueError(
                    f"ModelConfig.{name} = {ours!r} disagrees with the task's {name} = "
                    f"{theirs!r} ({type(task).__name__}): it must equal the task's, or be None "
                    "to take it from the task"
                )
        return dataclasses.replace(self, **changes) if changes else self

    def check_resolved(self) -> None:
        """Raise ValueError if ``n_in``, ``n_out`` or ``dt`` is still None."""
        missing = [name for name in TASK_FIELDS if getattr(self, name) is None]
        if missing:
            raise ValueError(
                f"ModelConfig.{missing[0]} = None: a model needs {', '.join(missing)}; build it "
                "with ModelConfig.for_task(task) (or through a RunSpec, which does it)"
            )
