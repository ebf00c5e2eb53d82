"""Penalties added to the loss (registry ``PENALTIES``), chosen in ``TrainConfig.penalties``.

    TrainConfig(penalties=[Penalty("contrastive_margin", weight=0.1, margin=6.0)])

Each penalty is a function ``(trials, rollout, task, **options) -> scalar tensor``; the loss
becomes ``loss + sum(weight * penalty)``. A new penalty (rate L1, nuclear norm, effective rank,
row sums, ...) is one function here and one registry entry; the training step, single or many
networks, takes it as it is.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch

from rnnbook.tensors import class_centroids
from rnnbook.validation import check_nonnegative


def contrastive_margin(trials, rollout, task, *, margin: float = 1.0) -> torch.Tensor:
    """Adaptive contrastive gating's separation term: ReLU(margin - ||mu_0 - mu_1||).

    The class centroids ``mu_k`` of the last step's rates ``[B, N]`` (classes:
    ``task.correct_choices``) are pushed at least ``margin`` apart; with more than two classes,
    the mean over all pairs. Zero when fewer than two classes are in the batch.
    """
    return centroid_margin(rollout.rates[:, -1], task.correct_choices(trials), margin)


def centroid_margin(states: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    """mean over class pairs of ReLU(margin - ||mu_i - mu_j||); states [B, N], labels [B]."""
    centroids = class_centroids(states, labels)
    if len(centroids) < 2:
        return states.sum() * 0.0
    return torch.relu(margin - torch.pdist(centroids)).mean()


def rate_l1(trials, rollout, task) -> torch.Tensor:
    """Mean absolute rate over batch, time and units (a metabolic cost)."""
    return rollout.rates.abs().mean()


PENALTIES = {"contrastive_margin": contrastive_margin, "rate_l1": rate_l1}


@dataclass(frozen=True, init=False)
class Penalty:
    """One penalty term: a registered ``name``, its ``weight`` and its keyword ``options``.

    ``Penalty("contrastive_margin", 0.1, margin=6.0)``; options are stored as sorted
    (name, value) pairs so that the config stays hashable and serialisable.
    """

    name: str
    weight: float
    options: tuple[tuple[str, float], ...] = ()

    def __init__(self, name: str, weight: float, options=(), **kwargs):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "weight", weight)
        merged = dict(options) | kwargs
        object.__setattr__(self, "options", tuple(sorted(merged.items())))
        self._check()

    def _check(self) -> None:
        if self.name not in PENALTIES:
            raise ValueError(
                f"Penalty.name = {self.name!r} is not allowed: choose one of {sorted(PENALTIES)}"
            )
        check_nonnegative(self, "weight")
        allowed = list(inspect.signature(PENALTIES[self.name]).parameters)[3:]
        for key, _ in self.options:
            if key not in allowed:
                raise ValueError(
                    f"Penalty({self.name!r}) option {key!r} is not allowed: its options are "
                    f"{allowed}"
                )

    def __call__(self, trials, rollout, task) -> torch.Tensor:
        """weight * the penalty on this batch."""
        return self.weight * PENALTIES[self.name](trials, rollout, task, **dict(self.options))

    @classmethod
    def from_value(cls, value) -> Penalty:
        """A Penalty from itself, or from its dict form (``dataclasses.asdict``, JSON)."""
        if isinstance(value, Penalty):
            return value
        if isinstance(value, dict) and {"name", "weight"} <= set(value):
            return cls(value["name"], value["weight"], [tuple(o) for o in value.get("options", ())])
        raise ValueError(
            f"TrainConfig.penalties entry {value!r} is not allowed: want Penalty(name, weight, "
            "**options) or a dict with name, weight and options"
        )
