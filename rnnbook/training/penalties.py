"""Penalties added to the loss (registry ``PENALTIES``), chosen in ``TrainConfig.penalties``.

    TrainConfig(penalties=[Penalty("contrastive_margin", weight=0.1, margin=6.0)])

Each penalty is a function ``(trials, rollout, task, **options) -> scalar tensor``; the loss
becomes ``loss + sum(weight * penalty)``. A penalty of the weights declares the keyword
``weights``: it then also receives the network's effective weights (``rnnbook.models.Weights``:
Dale signs, masks and factors applied, differentiable; in a stack, its member's own), as
``row_sum`` does. Options are numbers, or booleans where the function's default is one. A new
penalty (rate L1, nuclear norm, effective rank, ...) is one function here and one registry
entry; the training step, single or many networks, takes it as it is.
"""

from __future__ import annotations

import functools
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


def row_sum(trials, rollout, task, *, weights, per_sign: bool = True) -> torch.Tensor:
    """Seed 000's row-sum penalty on the recurrent weights W [N, N] (post, pre).

    ``per_sign=True``: ``mean_i[(sum_{j in E} W_ij)^2 + (sum_{j in I} W_ij)^2]``, the
    excitatory and the inhibitory input of each unit each pushed to zero (it shrinks
    magnitudes; it does not balance E against I). E and I are the positive and the negative
    weights, which under Dale's law are the E and I columns. ``per_sign=False``:
    ``mean_i[(sum_j W_ij)^2]``, zero for balanced rows (net zero input).
    """
    w = weights.recurrent
    if not per_sign:
        return w.sum(1).square().mean()
    return (w.clamp_min(0).sum(1).square() + w.clamp_max(0).sum(1).square()).mean()


def fixation_down(trials, rollout, task) -> torch.Tensor:
    """Seed 000's fixation-down term: the mean squared fixation logit (output channel 0) over
    the decision steps (``trials.periods["decision"]``, each step with its mask weight), which
    pushes the fixation output to zero while the network reports its choice."""
    if "decision" not in trials.periods:
        raise ValueError(
            "Penalty.name = 'fixation_down' is not allowed for this task: it needs the period "
            f"'decision' in Trials.periods, which has {sorted(trials.periods)}"
        )
    weight = trials.mask * trials.periods["decision"]
    return (rollout.outputs[..., 0].square() * weight).sum() / weight.sum().clamp_min(1e-12)


PENALTIES = {
    "contrastive_margin": contrastive_margin,
    "rate_l1": rate_l1,
    "row_sum": row_sum,
    "fixation_down": fixation_down,
}
WEIGHTS = "weights"  # the keyword by which a penalty asks for the network's effective weights


@functools.cache
def reads_weights(function) -> bool:
    """Whether a penalty function declares the keyword ``weights``."""
    return WEIGHTS in inspect.signature(function).parameters


def options_of(function) -> dict[str, object]:
    """A penalty function's options and their defaults (its keywords after the first three,
    less ``weights``)."""
    parameters = list(inspect.signature(function).parameters.values())[3:]
    return {p.name: p.default for p in parameters if p.name != WEIGHTS}


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
        defaults = options_of(PENALTIES[self.name])
        allowed = list(defaults)
        for key, value in pairs:
            if not isinstance(key, str) or key not in allowed:
                raise ValueError(
                    f"{shown}: option {key!r} is not allowed for Penalty.name = {self.name!r}: "
                    f"its options are {allowed}"
                )
            if isinstance(defaults[key], bool):
                if not isinstance(value, bool):
                    raise ValueError(
                        f"{shown}: option {key!r} = {value!r} is not allowed: want True or False"
                    )
            elif not is_number(value):
                raise ValueError(
                    f"{shown}: option {key!r} = {value!r} is not allowed: want a finite number"
                )
        object.__setattr__(self, "options", tuple(sorted(dict(pairs).items())))

    @property
    def needs_weights(self) -> bool:
        """Whether the penalty reads the network's effective weights."""
        return reads_weights(PENALTIES[self.name])

    def __call__(self, trials, rollout, task, weights=None) -> torch.Tensor:
        """weight * the penalty on this batch (``weights``: the network's effective weights,
        given to a penalty that reads them)."""
        options = dict(self.options)
        if self.needs_weights:
            if weights is None:
                raise ValueError(
                    f"Penalty.name = {self.name!r} needs the network's effective weights: the "
                    "model must have effective_weights() (a RateRNN)"
                )
            options[WEIGHTS] = weights
        return self.weight * PENALTIES[self.name](trials, rollout, task, **options)

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
