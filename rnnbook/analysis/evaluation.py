"""Run a trained model on a fresh batch of trials, once, for every analysis that follows."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnbook.models import Rollout
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


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    task: Task,
    n_trials: int = 1024,
    *,
    seed: int = 0,
    intervention=None,
) -> Evaluation:
    """Sample ``n_trials`` trials of ``task`` (generators from ``seed``) and run ``model`` on them.

    The model's noise is drawn from this call's own generator, so evaluating never changes
    the model or its generators, and the same ``seed`` gives the same trials and noise: two
    evaluations that differ only in ``intervention`` (``rnnbook.models.interventions``, e.g.
    a lesion) differ only by its effect.
    """
    seeds = Seeds.from_seed(seed)
    device = next(model.parameters()).device
    trials = task.sample(n_trials, generator=seeds.generator("eval"))
    extra = {} if intervention is None else {"intervention": intervention}
    noise = seeds.generator("noise", device)
    rollout = model(trials.inputs.to(device), generator=noise, **extra)
    rollout = Rollout(*(t.detach().cpu() for t in (rollout.outputs, rollout.states, rollout.rates)))
    if not hasattr(task, "choices"):
        return Evaluation(trials, rollout)
    choices = task.choices(rollout.outputs, trials)
    return Evaluation(trials, rollout, choices, choices == task.correct_choices(trials))
