"""Run a trained model for analysis: on fresh test trials, on given trials, at another time step.

Every run here draws its noise from a fresh generator of the ``test_noise`` stream of its
``seed`` (and :func:`evaluate` its trials from the ``test_trials`` stream), never from the
model's own generator: analysing a model never changes it, and the same ``seed`` gives the
same trials and noise, so two runs that differ only in an ``intervention`` differ only by its
effect.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from rnnbook.models import Rollout
from rnnbook.runtime import torch_threads
from rnnbook.seeding import Seeds
from rnnbook.tasks import Task, Trials


@dataclass
class Evaluation:
    """A model's rollout on ``trials``, with its choices.

    trials:  the sampled trials (``trials.conditions`` holds per-trial tensors, each [B]).
    rollout: outputs [B, T, n_out], states and rates [B, T, n_rec] (detached, on the CPU).
    choices: [B] the model's choice per trial (classification tasks; else None).
    correct: [B] bool, choice == correct choice (classification tasks; else None).
    """

    trials: Trials
    rollout: Rollout
    choices: torch.Tensor | None = None
    correct: torch.Tensor | None = None

    @property
    def accuracy(self) -> float:
        """Fraction of trials answered correctly."""
        if self.correct is None:
            raise ValueError("accuracy needs a classification task (one with choices)")
        return float(self.correct.float().mean())


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of ``model``'s parameters."""
    return next(model.parameters()).device


def sample_trials(task: Task, n_trials: int, *, seed: int) -> Trials:
    """``n_trials`` trials of ``task`` from the ``test_trials`` stream of ``seed`` (CPU)."""
    return task.sample(n_trials, generator=Seeds.from_seed(seed).generator("test_trials"))


def noise_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh generator of the ``test_noise`` stream of ``seed``, on ``device``."""
    return Seeds.from_seed(seed).generator("test_noise", device)


def run_trials(
    model: torch.nn.Module,
    trials: Trials,
    *,
    seed: int,
    h0: torch.Tensor | None = None,
    intervention=None,
) -> Rollout:
    """``model`` on ``trials.inputs [B, T, n_in]`` from ``h0 [B or 1, n_rec]`` (default zeros),
    noise from :func:`noise_generator`. The rollout stays on the model's device and keeps its
    autograd graph (see :func:`evaluate_on` for a detached CPU copy)."""
    device = model_device(model)
    extra = {} if intervention is None else {"intervention": intervention}
    h0 = None if h0 is None else h0.to(device)
    return model(trials.inputs.to(device), h0, generator=noise_generator(seed, device), **extra)


@torch.no_grad()
def evaluate_on(
    model: torch.nn.Module,
    task: Task,
    trials: Trials,
    *,
    seed: int = 0,
    h0: torch.Tensor | None = None,
    intervention=None,
) -> Evaluation:
    """Run ``model`` on given ``trials`` (:func:`run_trials`): e.g. the same test trials for
    every network of a comparison. Choices when ``task`` has them."""
    rollout = run_trials(model, trials, seed=seed, h0=h0, intervention=intervention)
    rollout = Rollout(*(t.detach().cpu() for t in (rollout.outputs, rollout.states, rollout.rates)))
    return evaluation_of(task, trials, rollout)


def evaluation_of(task: Task, trials: Trials, rollout: Rollout) -> Evaluation:
    """An Evaluation of a given ``rollout`` on ``trials`` (e.g. another library's network's),
    with the task's choices when it has them."""
    if not hasattr(task, "choices"):
        return Evaluation(trials, rollout)
    choices = task.choices(rollout.outputs, trials)
    return Evaluation(trials, rollout, choices, choices == task.correct_choices(trials))


def evaluate(
    model: torch.nn.Module,
    task: Task,
    n_trials: int = 1024,
    *,
    seed: int = 0,
    intervention=None,
) -> Evaluation:
    """Sample ``n_trials`` test trials of ``task`` (:func:`sample_trials`) and run ``model`` on
    them (:func:`evaluate_on`); ``intervention``: see ``rnnbook.models.interventions``."""
    trials = sample_trials(task, n_trials, seed=seed)
    return evaluate_on(model, task, trials, seed=seed, intervention=intervention)


def at_dt(model: torch.nn.Module, dt: float) -> torch.nn.Module:
    """The same continuous-time network (a copy, same weights) simulated with time step ``dt``
    (ms). The model itself is not changed. A model with a discrete leak instead of time
    constants (``ModelConfig.leak``) has no continuous time to resample: ValueError."""
    if getattr(model.config, "leak", None) is not None:
        raise ValueError(
            f"at_dt needs time constants in ms; this model has a discrete leak "
            f"(ModelConfig.leak = {model.config.leak!r}), which fixes its time step"
        )
    with torch_threads(1):
        copy = type(model)(dataclasses.replace(model.config, dt=dt))
    copy.load_state_dict(model.state_dict())
    return copy.to(model_device(model))
