"""Cognitive tasks: one task per module on :class:`~rnnbook.tasks.base.Task`; ``TASKS`` by name."""

from rnnbook.tasks.base import Task, TaskConfig, TimedTask, Trials
from rnnbook.tasks.delayed_estimation import DelayedEstimation, DelayedEstimationConfig
from rnnbook.tasks.modcog import MODCOG_TASKS, ModCog, ModCogConfig
from rnnbook.tasks.neurogym_tasks import NeurogymConfig, NeurogymTask
from rnnbook.tasks.perceptual import PerceptualDecision, PerceptualDecisionConfig
from rnnbook.tasks.probabilistic_reward import ProbabilisticReward, ProbabilisticRewardConfig
from rnnbook.tasks.psychrnn_perceptual import PsychRNNPerceptual, PsychRNNPerceptualConfig
from rnnbook.tasks.pulse import PulseIntegration, PulseIntegrationConfig
from rnnbook.tasks.reversal import ReversalLearning, ReversalLearningConfig
from rnnbook.tasks.two_stage import TwoStage, TwoStageConfig

TASKS: dict[str, type[Task]] = {
    PerceptualDecision.name: PerceptualDecision,
    PulseIntegration.name: PulseIntegration,
    PsychRNNPerceptual.name: PsychRNNPerceptual,
    NeurogymTask.name: NeurogymTask,
    ModCog.name: ModCog,
    ReversalLearning.name: ReversalLearning,
    TwoStage.name: TwoStage,
    ProbabilisticReward.name: ProbabilisticReward,
    DelayedEstimation.name: DelayedEstimation,
}


def make_task(name: str, config: TaskConfig | None = None) -> Task:
    """The registered task ``name`` with ``config`` (its defaults when None)."""
    if name not in TASKS:
        raise ValueError(f"task = {name!r} is unknown: choose one of {sorted(TASKS)}")
    return TASKS[name](config)


__all__ = [
    "DelayedEstimation",
    "DelayedEstimationConfig",
    "TwoStageConfig",
    "TwoStage",
    "ReversalLearningConfig",
    "ReversalLearning",
    "ProbabilisticRewardConfig",
    "ProbabilisticReward",
    "MODCOG_TASKS",
    "TASKS",
    "ModCog",
    "ModCogConfig",
    "NeurogymConfig",
    "NeurogymTask",
    "PerceptualDecision",
    "PerceptualDecisionConfig",
    "PsychRNNPerceptual",
    "PsychRNNPerceptualConfig",
    "PulseIntegration",
    "PulseIntegrationConfig",
    "Task",
    "TaskConfig",
    "TimedTask",
    "Trials",
    "make_task",
]
