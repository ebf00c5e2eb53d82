"""Penalties added to the loss (registry ``PENALTIES``), chosen in ``TrainConfig.penalties``.

    TrainConfig(penalties=[Penalty("contrastive_margin", weight=0.1, margin=6.0)])

Each penalty is a function ``(trials, rollout, task, **options) -> scalar tensor``; the loss
becomes ``loss + sum(ramp(step) * weight * penalty)``. A penalty of the weights declares the
keyword ``weights``: it then also receives the network's effective weights
(``rnnbook.models.Weights``: Dale signs, masks and factors applied, differentiable; in a stack,
its member's own), as ``row_sum`` does. A penalty that declares ``model`` also receives the
member's model, read only for what is not trained (its ``alpha`` and rate function; the trained
weights come in ``weights``). Options are numbers, or booleans where the function's default is
one. A new penalty is one function here and one registry entry; the training step, single or
many networks, takes it as it is.

``Penalty.warmup_steps`` ramps a term in: its weight is multiplied by ``min(1, (step - 1) /
warmup_steps)`` at training step ``step`` (1, 2, ...), so step 1 has none of it (seed 004's
regularisation warm-up ``min(1, e / 10)`` over 0-based epochs ``e``, here per step).

Seed 004's terms (its ``compute_*``), on the singular values of the recurrent weights W
(``rnnbook.models.low_rank``): ``nuclear_norm``, ``effective_rank``, ``spectral_target`` and
``heterogeneity`` (to be maximised: it returns ``-H``, so a positive weight is the original's
``-lambda H``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from rnnbook.models import low_rank as spectra
from rnnbook.models.heterogeneity import response_heterogeneity
from rnnbook.tensors import class_centroids
from rnnbook.validation import (
    check_choice,
    check_integer,
    check_nonnegative,
    config_from_dict,
    is_number,
)


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


def nuclear_norm(trials, rollout, task, *, weights) -> torch.Tensor:
    """``||W||_* = sum_i s_i``, the sum of the singular values of the recurrent weights W
    [N, N] (seed 004's ``alpha_nuc`` term): pushes W towards low rank."""
    return spectra.nuclear_norm(spectra.singular_values(weights.recurrent))


def effective_rank(trials, rollout, task, *, weights, sigma: bool = False) -> torch.Tensor:
    """The effective rank D of the recurrent weights W (seed 004's ``beta`` term).

    ``sigma=False`` (the original code): ``(sum s^2)^2 / sum s^4``, the participation ratio of
    the eigenvalues s_i^2 of W W^T; ``sigma=True``: ``(sum s)^2 / sum s^2``."""
    s = spectra.singular_values(weights.recurrent)
    return spectra.effective_rank(s, form="sigma" if sigma else "sigma2")


def spectral_target(
    trials, rollout, task, *, weights, rank: int = 6, gamma: float = 0.3
) -> torch.Tensor:
    """Seed 004's spectral loss: ``mean_{i<rank} (s_i - t_i)^2``, the top ``rank`` singular
    values of W against ``t_i = exp(-gamma i)`` rescaled to their sum (the scale carries
    gradient); 0 on an exactly decaying spectrum. Its defaults are the original's
    ``DevelopmentalConfig`` (rank 6, gamma 0.3): set them to the network's."""
    s = spectra.singular_values(weights.recurrent)
    if rank > s.shape[-1]:
        raise ValueError(
            f"Penalty 'spectral_target' option rank = {rank!r} is out of range for a recurrent "
            f"weight of {s.shape[-1]} singular values: allowed 1 .. {s.shape[-1]}"
        )
    return spectra.spectral_loss(s, int(rank), gamma)


def heterogeneity(
    trials, rollout, task, *, weights, model, scale: float = 0.1, exact: bool = False
) -> torch.Tensor:
    """``-H``: minus the response heterogeneity, averaged over the batch, at the last step's
    states (seed 004's ``-lambda H``, a term to maximise; ``rnnbook.models.heterogeneity``):
    ``exact=False`` the original's finite-difference proxy with a kick of current ``scale``,
    ``exact=True`` the exact Jacobian. Needs a rate RNN (its alpha and rate function)."""
    if not (hasattr(model, "alpha") and hasattr(model, "activation")):
        raise ValueError(
            f"Penalty.name = 'heterogeneity' needs a rate RNN (alpha and a rate function); got "
            f"a {type(model).__name__}"
        )
    h = response_heterogeneity(
        rollout.states[:, -1], weights, model.alpha, model.activation, scale=scale, exact=exact
    )
    return -h.mean()


PENALTIES = {
    "contrastive_margin": contrastive_margin,
    "rate_l1": rate_l1,
    "row_sum": row_sum,
    "fixation_down": fixation_down,
    "nuclear_norm": nuclear_norm,
    "effective_rank": effective_rank,
    "spectral_target": spectral_target,
    "heterogeneity": heterogeneity,
}
WEIGHTS = "weights"  # the keyword by which a penalty asks for the network's effective weights
MODEL = "model"  # the keyword by which a penalty asks for its member's model (alpha, f)
CONTEXT = (WEIGHTS, MODEL)  # keywords the training step fills in (no options)
INTEGER_OPTIONS = {"spectral_target": ("rank",)}  # options that must be integers >= 1
POSITIVE_OPTIONS = {"spectral_target": ("gamma",), "heterogeneity": ("scale",)}  # >= 0 / > 0


@functools.cache
def reads_weights(function) -> bool:
    """Whether a penalty function declares the keyword ``weights``."""
    return WEIGHTS in inspect.signature(function).parameters


@functools.cache
def reads_model(function) -> bool:
    """Whether a penalty function declares the keyword ``model``."""
    return MODEL in inspect.signature(function).parameters


def options_of(function) -> dict[str, object]:
    """A penalty function's options and their defaults (its keywords after the first three,
    less ``weights`` and ``model``)."""
    parameters = list(inspect.signature(function).parameters.values())[3:]
    return {p.name: p.default for p in parameters if p.name not in CONTEXT}


def option_problem(name: str, key: str, value) -> str | None:
    """Why ``value`` is no valid value of option ``key`` of penalty ``name`` beyond being a
    number (integers, signs); None if it is."""
    if key in INTEGER_OPTIONS.get(name, ()):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return "want an integer >= 1"
    if key in POSITIVE_OPTIONS.get(name, ()) and not value >= 0:
        return "want a number >= 0"
    return None


@dataclass(frozen=True, init=False)
class Penalty:
    """One penalty term: a registered ``name``, its ``weight``, its keyword ``options`` and its
    warm-up.

    ``Penalty("contrastive_margin", 0.1, margin=6.0)``; options are stored as sorted
    (name, value) pairs so that the config stays hashable and serialisable.
    ``Penalty("nuclear_norm", 5e-4, warmup_steps=30)`` ramps the term in over 30 steps.
    """

    name: str
    weight: float
    options: tuple[tuple[str, float], ...] = ()
    warmup_steps: int = 0  # the weight ramps up as min(1, (step - 1) / warmup_steps); 0: none

    def __init__(self, name: str, weight: float, options=(), *, warmup_steps: int = 0, **kwargs):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "options", options)  # as given, until checked
        object.__setattr__(self, "warmup_steps", warmup_steps)
        self._check(kwargs)

    def _check(self, kwargs: dict) -> None:
        check_choice(self, "name", sorted(PENALTIES))
        check_nonnegative(self, "weight")
        check_integer(self, "warmup_steps", minimum=0)
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
        for key, value in pairs:
            problem = self._option_problem(key, value)
            if problem is not None:
                raise ValueError(f"{shown}: {problem}")
        object.__setattr__(self, "options", tuple(sorted(dict(pairs).items())))

    def _option_problem(self, key, value) -> str | None:
        defaults = options_of(PENALTIES[self.name])
        if not isinstance(key, str) or key not in defaults:
            return (
                f"option {key!r} is not allowed for Penalty.name = {self.name!r}: its options "
                f"are {list(defaults)}"
            )
        if isinstance(defaults[key], bool):
            if not isinstance(value, bool):
                return f"option {key!r} = {value!r} is not allowed: want True or False"
            return None
        if not is_number(value):
            return f"option {key!r} = {value!r} is not allowed: want a finite number"
        problem = option_problem(self.name, key, value)
        return None if problem is None else f"option {key!r} = {value!r} is not allowed: {problem}"

    @property
    def needs_weights(self) -> bool:
        """Whether the penalty reads the network's effective weights."""
        return reads_weights(PENALTIES[self.name])

    @property
    def needs_model(self) -> bool:
        """Whether the penalty reads its member's model (alpha, rate function)."""
        return reads_model(PENALTIES[self.name])

    def ramp(self, step: int | None) -> float:
        """The warm-up factor at training step ``step`` (1, 2, ...; None: 1)."""
        if step is None or self.warmup_steps == 0:
            return 1.0
        return min(1.0, max(step - 1, 0) / self.warmup_steps)

    def __call__(self, trials, rollout, task, weights=None, *, model=None, step=None):
        """ramp(step) * weight * the penalty on this batch, a scalar tensor (``weights``: the
        network's effective weights, ``model``: the member's model, each given to a penalty
        that reads it; ``step``: the training step, for the warm-up)."""
        factor = self.ramp(step)
        if factor == 0.0:
            return rollout.outputs.new_zeros(())
        options = dict(self.options)
        for needed, keyword, value in (
            (self.needs_weights, WEIGHTS, weights),
            (self.needs_model, MODEL, model),
        ):
            if needed and value is None:
                raise ValueError(
                    f"Penalty.name = {self.name!r} needs the network's {keyword}: the model must "
                    "be a RateRNN (with effective_weights(), alpha and a rate function)"
                )
            if needed:
                options[keyword] = value
        return factor * self.weight * PENALTIES[self.name](trials, rollout, task, **options)

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
