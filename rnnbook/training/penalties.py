"""Penalties added to the loss (registry ``PENALTIES``), chosen in ``TrainConfig.penalties``.

    TrainConfig(penalties=[Penalty("contrastive_margin", weight=0.1, margin=6.0)])

Each penalty is a function ``(trials, rollout, task, **options) -> scalar tensor``; the loss
becomes ``loss + sum(weight * penalty)``. A new penalty (rate L1, nuclear norm, effective rank,
row sums, ...) is one function here and one registry entry; the training step, single or many
networks, takes it as it is.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from rnnbook.tensors import class_centroids
from rnnbook.validation import check_choice, check_nonnegative, config_from_dict, is_number


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
        object.__setattr__(self, "options", options)  # as given, until checked
        self._check(kwargs)

    def _check(self, kwargs: dict) -> None:
        check_choice(self, "name", sorted(PENALTIES))
        check_nonnegative(self, "weight")
        given = self.options
        if isinstance(given, Mapping):
            pairs = list(given.items())
        elif isinstance(given, (tuple, list)) and all(
            isinstance(o, (tuple, list)) and len(o) == 2 for o in given
        ):
            pairs = [tuple(o) for o in given]
        else:
            raise ValueError(
                f"Penalty.options = {given!r} is not allowed: want (name, value) pairs or a dict "
                "of the penalty's options"
            )
        pairs += list(kwargs.items())
        shown = f"Penalty.options = {given!r}" if not kwargs else f"Penalty options {kwargs!r}"
        allowed = list(inspect.signature(PENALTIES[self.name]).parameters)[3:]
        for key, value in pairs:
            if not isinstance(key, str) or key not in allowed:
                raise ValueError(
                    f"{shown}: option {key!r} is not allowed for Penalty.name = {self.name!r}: "
                    f"its options are {allowed}"
                )
            if not is_number(value):
                raise ValueError(
                    f"{shown}: option {key!r} = {value!r} is not allowed: want a finite number"
                )
        object.__setattr__(self, "options", tuple(sorted(dict(pairs).items())))

    def __call__(self, trials, rollout, task) -> torch.Tensor:
        """weight * the penalty on this batch."""
        return self.weight * PENALTIES[self.name](trials, rollout, task, **dict(self.options))

    @classmethod
    def from_value(cls, value) -> Penalty:
        """A Penalty from itself, or from its dict form (``dataclasses.asdict``, JSON); a
        ValueError naming an unknown or missing key."""
        if isinstance(value, Penalty):
            return value
        if isinstance(value, Mapping):
            return config_from_dict(cls, value, where="Penalty")
        raise ValueError(
            f"entry {value!r} is not allowed: want Penalty(name, weight, **options) or a dict with "
            "name, weight and options"
        )
