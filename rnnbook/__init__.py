"""rnnbook: biologically constrained rate RNNs trained on cognitive tasks, and their analyses.

    import rnnbook as rb

    task = rb.PerceptualDecision(rb.PerceptualDecisionConfig(dt=20.0))
    spec = rb.RunSpec(task.name, task.config, rb.ModelConfig(n_rec=64), rb.TrainConfig(), seed=0)
    run = rb.fit(spec)                      # trained once, then loaded from the run cache
    ev = rb.evaluate(run.model, task, 1024, seed=0)
    rb.plot_psychometric({"network": rb.psychometric(ev)})

The names here are the public API (``rnnbook.__all__``; the book's "Using the package" page
lists them in one table). The subpackages hold the rest: ``rb.tasks``, ``rb.models``,
``rb.training``, ``rb.analysis``, ``rb.plotting``, ``rb.seeding``, ``rb.runs``, ``rb.studies``
and, imported on first use, ``rb.interop`` (PsychRNN).
"""

__version__ = "0.1.0"

import importlib

from rnnbook import (
    analysis,
    ei_studies,
    gating_studies,
    lowrank_studies,
    models,
    perceptual_studies,
    plotting,
    runs,
    seeding,
    tasks,
    training,
    wm_studies,
)
from rnnbook.analysis import *  # noqa: F403  (every name of rnnbook.analysis.__all__)
from rnnbook.models import (
    PARTS,
    Clamp,
    Gain,
    Lesion,
    ModelConfig,
    Perturb,
    RateRNN,
    Rollout,
    TinyGRU,
    Weights,
)
from rnnbook.plotting import *  # noqa: F403  (every name of rnnbook.plotting.__all__)
from rnnbook.recipes import gru_spec, lowrank_spec, modcog_spec
from rnnbook.records import record
from rnnbook.runs import DamagedRunError, Run, RunSpec, fit, load_run
from rnnbook.seeding import Seeds
from rnnbook.study_sweeps import sweep_study
from rnnbook.sweep_tables import compare_to_reference, summarise_cells
from rnnbook.sweeps import load_runs, sweep
from rnnbook.tasks import (
    MODCOG_TASKS,
    TASKS,
    DelayedEstimation,
    DelayedEstimationConfig,
    ModCog,
    ModCogConfig,
    NeurogymConfig,
    NeurogymTask,
    PerceptualDecision,
    PerceptualDecisionConfig,
    ProbabilisticReward,
    ProbabilisticRewardConfig,
    PsychRNNPerceptual,
    PsychRNNPerceptualConfig,
    PulseIntegration,
    PulseIntegrationConfig,
    ReversalLearning,
    ReversalLearningConfig,
    Task,
    Trials,
    TwoStage,
    TwoStageConfig,
    make_task,
)
from rnnbook.training import (
    LOSSES,
    OPTIMIZERS,
    PENALTIES,
    CurriculumConfig,
    DivergenceError,
    History,
    Penalty,
    TrainConfig,
    train,
)
from rnnbook.training.many import EnsembleError, fit_many
from rnnbook.wm_studies import vwm_spec

CORE = [
    # tasks
    "TASKS", "Task", "Trials", "make_task", "PerceptualDecision", "PerceptualDecisionConfig",
    "PulseIntegration", "PulseIntegrationConfig", "PsychRNNPerceptual", "PsychRNNPerceptualConfig",
    "NeurogymTask", "NeurogymConfig", "ModCog", "ModCogConfig", "MODCOG_TASKS", "ReversalLearning",
    "ReversalLearningConfig", "TwoStage", "TwoStageConfig", "ProbabilisticReward",
    "ProbabilisticRewardConfig", "DelayedEstimation", "DelayedEstimationConfig",
    # models
    "PARTS", "ModelConfig", "RateRNN", "Rollout", "Weights", "Lesion", "Clamp", "Perturb", "Gain",
    "TinyGRU",
    # training and runs
    "LOSSES", "OPTIMIZERS", "PENALTIES", "TrainConfig", "CurriculumConfig", "Penalty", "History",
    "DivergenceError", "train", "RunSpec", "Run", "fit", "load_run", "fit_many", "EnsembleError",
    "DamagedRunError", "sweep", "sweep_study", "load_runs", "summarise_cells",
    "compare_to_reference", "modcog_spec", "lowrank_spec", "gru_spec", "vwm_spec", "Seeds",
    "record",
]  # fmt: skip
__all__ = CORE + analysis.__all__ + plotting.__all__


def __getattr__(name: str):
    if name == "interop":  # TensorFlow-backed parts load only when asked for
        return importlib.import_module("rnnbook.interop")
    raise AttributeError(f"module 'rnnbook' has no attribute {name!r}")
