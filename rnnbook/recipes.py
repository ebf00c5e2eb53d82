"""The source studies' base configurations, as run specs to vary.

spec = modcog_spec(n_rec=128, tasks=("dm1",), optimizer="eg", lr=0.2)
table = sweep(spec, {"lr": [0.1, 1.0, 10.0]}, seeds=range(3))
"""

from __future__ import annotations

from rnnbook.models import ModelConfig
from rnnbook.runs import RunSpec
from rnnbook.tasks import ModCogConfig
from rnnbook.training import Penalty, TrainConfig


def modcog_spec(
    *,
    n_rec: int = 256,
    tasks: tuple[str, ...] = ("dm1",),
    optimizer: str = "eg",
    lr: float = 0.2,
    lr_other: float = 0.1,
    n_steps: int = 10_000,
    batch_size: int = 128,
    pool_trials: int = 0,
    spectral_radius: float = 1.2,
    softplus_beta: float = 10.0,
    leak: float = 1.0,
    activation: str = "softplus",
    exc_frac: float = 0.8,
    readout: str = "all",
    fixdown_weight: float = 0.5,
    label_smoothing: float = 0.1,
    momentum: float = 0.9,
    weight_decay: float = 1e-5,
    row_sum_weight: float = 0.0,
    eval_every: int = 500,
    seed: int = 0,
) -> RunSpec:
    """Seed 000's E/I network on Mod-Cog (its ``model_perf`` configuration by default).

    Model: Dale's law on a random ``exc_frac`` of ``n_rec`` units (the rest inhibitory), the
    rate function ``activation`` ("softplus" with ``softplus_beta``, or "tanh"), the discrete
    leak ``alpha = leak``, readout from ``readout`` units ("all", or "e_only": excitatory
    only), the original initialisation with the largest singular value of W_hh set to
    ``spectral_radius``. Learning: the combined
    Mod-Cog loss (label smoothing) plus ``fixdown_weight`` times the fixation-down term, and
    ``row_sum_weight`` times the per-sign row-sum penalty when it is > 0; ``optimizer`` "eg"
    (``lr`` on W_hh, momentum GD at ``lr_other`` on the rest) or "sgd" (``lr`` on all); the
    gradient clipped to norm 1; the accuracy of every batch recorded (the learning-speed
    metrics read it). Trials: Mod-Cog ``tasks`` with the loss on every step; ``pool_trials``
    > 0 draws them from a fixed pool per task with 10 % held out for validation (the seed's
    "cached" mode), 0 draws fresh ones.
    """
    task_config = ModCogConfig(
        tasks=tuple(tasks),
        loss_on="trial",
        pool=pool_trials,
        pool_part="train" if pool_trials else "all",
    )
    model_config = eirnn_config(
        n_rec,
        spectral_radius,
        softplus_beta,
        leak,
        activation=activation,
        exc_frac=exc_frac,
        readout=readout,
    )
    penalties = [Penalty("fixation_down", fixdown_weight)]
    if row_sum_weight > 0:
        penalties.append(Penalty("row_sum", row_sum_weight, per_sign=True))
    train_config = TrainConfig(
        n_steps=n_steps,
        batch_size=batch_size,
        optimizer=optimizer,
        lr=lr,
        lr_other=lr_other,
        momentum=momentum,
        weight_decay=weight_decay,
        grad_clip=1.0,
        loss="modcog",
        label_smoothing=label_smoothing,
        penalties=penalties,
        eval_every=eval_every,
        record_accuracy=True,
    )
    return RunSpec("modcog", task_config, model_config, train_config, seed=seed)


READOUTS = {"all": "free", "e_only": "e_only"}  # seed 000's readout -> ModelConfig's


def eirnn_config(
    n_rec: int,
    spectral_radius: float,
    softplus_beta: float,
    leak: float,
    *,
    activation: str = "softplus",
    exc_frac: float = 0.8,
    readout: str = "all",
) -> ModelConfig:
    """Seed 000's ``EIRNN``: column-wise Dale on a random ``exc_frac`` of E units, the rate
    function ``activation``, the discrete leak, the original initialisation with the largest
    singular value of W_hh at ``spectral_radius``, readout from ``readout`` units ("all" or
    "e_only")."""
    if readout not in READOUTS:
        raise ValueError(f"readout = {readout!r} is not allowed: choose one of {list(READOUTS)}")
    return ModelConfig(
        n_rec=n_rec,
        recurrence="dale",
        e_units="random",
        e_frac=exc_frac,
        init="eirnn",
        init_norm="singular_value",
        spectral_radius=spectral_radius,
        activation=activation,
        softplus_beta=softplus_beta,
        tau=None,
        leak=leak,
        readout_weights=READOUTS[readout],
    )
