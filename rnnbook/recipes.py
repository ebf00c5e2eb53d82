"""The source studies' base configurations, as run specs to vary.

spec = modcog_spec(n_rec=128, tasks=("dm1",), optimizer="eg", lr=0.2)
table = sweep(spec, {"lr": [0.1, 1.0, 10.0]}, seeds=range(3))
spec = lowrank_spec(task="two_stage", maturity="mature", seed=1)
"""

from __future__ import annotations

from rnnbook.models import ModelConfig
from rnnbook.runs import RunSpec
from rnnbook.tasks import TASKS, ModCogConfig
from rnnbook.training import Penalty, TrainConfig

SESSION_TASKS = ("reversal_learning", "two_stage", "probabilistic_reward")
# seed 004's DevelopmentalConfig by stage (spec section 4.1): rank r, SV decay gamma, and the
# weights of the heterogeneity (lambda), nuclear-norm (alpha_nuc) and effective-rank (beta) terms
MATURITY = {
    "premature": {"rank": 8, "sv_decay": 0.2, "heterogeneity": 0.05, "nuclear_norm": 5e-4,
                  "effective_rank": 5e-3},
    "mature": {"rank": 5, "sv_decay": 0.4, "heterogeneity": 0.15, "nuclear_norm": 2e-3,
               "effective_rank": 2e-2},
}  # fmt: skip
WARMUP_EPOCHS = 10  # seed 004's reg_warmup_epochs
LR_MIN = 1e-5  # seed 004's CosineAnnealingLR eta_min


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
        n_rec, spectral_radius, softplus_beta, leak,
        activation=activation, exc_frac=exc_frac, readout=readout,
    )  # fmt: skip
    penalties = [Penalty("fixation_down", fixdown_weight)]
    if row_sum_weight > 0:
        penalties.append(Penalty("row_sum", row_sum_weight, per_sign=True))
    train_config = TrainConfig(
        n_steps=n_steps, batch_size=batch_size, optimizer=optimizer, lr=lr, lr_other=lr_other,
        momentum=momentum, weight_decay=weight_decay, grad_clip=1.0, loss="modcog",
        label_smoothing=label_smoothing, penalties=penalties, eval_every=eval_every,
        record_accuracy=True,
    )  # fmt: skip
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


def lowrank_spec(
    *,
    task: str = "reversal_learning",
    maturity: str = "premature",
    n_rec: int = 32,
    n_sessions: int = 80,
    n_trials: int = 150,
    n_epochs: int = 80,
    batch_size: int = 16,
    lr: float = 1e-3,
    seed: int = 0,
) -> RunSpec:
    """Seed 004's premature or mature low-rank RNN on one of its session tasks.

    Model (``MATURITY[maturity]``): W = m n^T + M N^T with rank r (8 premature, 5 mature) and
    the SV-decay initialisation (gamma 0.2 / 0.4) on seed 004's factors (N(0, 0.1^2)), tanh
    rates, leak alpha 0.1. Loss: the soft-target cross-entropy (NLL) plus, ramped in over the
    first ``WARMUP_EPOCHS`` epochs, the nuclear norm, the effective rank (the code's sigma^2
    form), the spectral target (weight 1) and the heterogeneity (its proxy, maximised). Data:
    ``n_sessions`` sessions of ``n_trials`` trials (the original study: 80 x 150), split
    70/15/15; Adam (lr, weight decay 1e-5, cosine-annealed to 1e-5 over the epochs), batches of
    ``batch_size`` sessions, the gradient clipped to norm 1, ``n_epochs`` epochs of ``n_train //
    batch_size`` steps, validated on the validation sessions every epoch, ending with the
    weights of the best validation loss (``session_training``).
    """
    if maturity not in MATURITY:
        raise ValueError(f"maturity = {maturity!r} is not allowed: choose one of {list(MATURITY)}")
    stage = MATURITY[maturity]
    model_config = ModelConfig(
        n_rec=n_rec,
        recurrence="low_rank",
        rank=stage["rank"],
        sv_decay=stage["sv_decay"],
        init="brain_inspired",
        activation="tanh",
        tau=None,
        leak=0.1,
    )
    task_config = session_task_config(task, n_sessions, n_trials)
    per_epoch = steps_per_epoch(task_config, batch_size)
    warmup = WARMUP_EPOCHS * per_epoch
    penalties = [
        Penalty("nuclear_norm", stage["nuclear_norm"], warmup_steps=warmup),
        Penalty("effective_rank", stage["effective_rank"], warmup_steps=warmup),
        Penalty("spectral_target", 1.0, warmup_steps=warmup, rank=stage["rank"],
                gamma=stage["sv_decay"]),
        Penalty("heterogeneity", stage["heterogeneity"], warmup_steps=warmup),
    ]  # fmt: skip
    train_config = session_training(task_config, n_epochs, batch_size, lr, penalties)
    return RunSpec(task, task_config, model_config, train_config, seed=seed)


def gru_spec(
    *,
    task: str = "reversal_learning",
    n_rec: int = 4,
    n_sessions: int = 80,
    n_trials: int = 150,
    n_epochs: int = 80,
    batch_size: int = 16,
    lr: float = 1e-3,
    seed: int = 0,
) -> RunSpec:
    """Seed 004's baseline: a tiny GRU of ``n_rec`` units (the original: 4; Ji-An et al.: 1-4)
    on one of its session tasks, trained on the soft-target cross-entropy alone, with the same
    data and schedule as :func:`lowrank_spec`."""
    task_config = session_task_config(task, n_sessions, n_trials)
    train_config = session_training(task_config, n_epochs, batch_size, lr, [])
    return RunSpec(
        task, task_config, ModelConfig(n_rec=n_rec), train_config, seed=seed, model="gru"
    )


def session_task_config(task: str, n_sessions: int, n_trials: int):
    """The config of session task ``task`` drawing from the training part of a fixed dataset of
    ``n_sessions`` sessions (seed 004's ``TaskDataset``, seed 42)."""
    if task not in SESSION_TASKS:
        raise ValueError(f"task = {task!r} is not allowed: choose one of {SESSION_TASKS}")
    config_class = TASKS[task].config_class
    return config_class(n_trials=n_trials, n_sessions=n_sessions, pool_seed=42, split="train")


def steps_per_epoch(task_config, batch_size: int) -> int:
    """Seed 004's batches per epoch: ``n_train // batch_size`` (at least 1)."""
    return max(1, task_config.split_sizes()["train"] // batch_size)


def session_training(
    task_config, n_epochs: int, batch_size: int, lr: float, penalties
) -> TrainConfig:
    """Seed 004's training: Adam (``lr``, weight decay 1e-5) with its learning rate
    cosine-annealed to ``LR_MIN`` = 1e-5 (T_max = ``n_epochs``, stepped per epoch), clip 1, the
    soft-target NLL, ``n_epochs`` epochs, evaluated every epoch on as many sessions as the
    validation part holds (drawn from it at random), and the weights of the best validation
    loss restored at the end."""
    per_epoch = steps_per_epoch(task_config, batch_size)
    return TrainConfig(
        n_steps=n_epochs * per_epoch,
        batch_size=batch_size,
        optimizer="adam",
        lr=lr,
        weight_decay=1e-5,
        grad_clip=1.0,
        loss="soft_cross_entropy",
        penalties=penalties,
        eval_every=per_epoch,
        eval_batch_size=max(1, task_config.split_sizes()["val"]),
        lr_schedule="cosine",
        lr_min=LR_MIN,
        lr_t_max=n_epochs,
        restore_best=True,
    )
