"""Cognitive tasks: one task per module on :class:`~rnnbook.tasks.base.Task`; ``TASKS`` by name."""

from rnnbook.tasks.base import Task, TaskConfig, TimedTask, Trials
from rnnbook.tasks.perceptual import PerceptualDecision, PerceptualDecisionConfig
from rnnbook.tasks.pulse import PulseIntegration, PulseIntegrationConfig

# PsychRNN's task (rnnbook.interop.psychrnn_task) is not registered: importing it runs
# rnnbook.interop, which imports rnnbook.models and rnnbook.analysis, which import this package.
TASKS: dict[str, type[Task]] = {
    PerceptualDecision.name: PerceptualDecision,
    PulseIntegration.name: PulseIntegration,
}


def make_task(name: str, config: TaskConfig | None = None) -> Task:
    """The registered task ``name`` with ``config`` (its defaults when None)."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}: choose one of {sorted(TASKS)}")
    return TASKS[name](config)


__all__ = [
    "TASKS",
    "PerceptualDecision",
    "PerceptualDecisionConfig",
    "PulseIntegration",
    "PulseIntegrationConfig",
    "Task",
    "TaskConfig",
    "TimedTask",
    "Trials",
    "make_task",
]
