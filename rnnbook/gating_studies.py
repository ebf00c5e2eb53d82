"""What the gating and causal-perturbation pages (seed 001) need beyond the package's parts.

- :func:`ideal_observer_correct`: the ideal observer's per-trial correctness on the very trials
  a network is tested on, so the two are compared by a paired test (``rb.mcnemar``);
- :func:`accuracy_by_level`: accuracy per coherence of several networks (one per seed), each
  on its own test trials, with the trial counts;
- :func:`matched_clamp_swing`: the choice swing of clamping the top-k units against random
  sets of k units, each pair clamped with the same size of imposed rate change ``||dr||``;
- :func:`compare_pairs`: conditions compared over networks (mean difference, bootstrap 95 %
  interval, Holm-adjusted p-values) and, on shared trials, by McNemar's paired test;
- :func:`fixed_point_table`: the fixed points of several searches by stability kind;
- :func:`plot_over_seeds`: a curve per seed (thin) with the mean and its bootstrap 95 %
  interval over seeds (band); :func:`plot_per_network`: one number per network, by condition;
  :func:`plot_psychometrics`: psychometric fits in colours the page chooses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from rnnbook.analysis.accuracy import accuracy_by_condition
from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.clamps import SignedRates
from rnnbook.analysis.comparison import compare_means, holm, mcnemar, mean_ci
from rnnbook.analysis.evaluation import model_device, run_trials, sample_trials
from rnnbook.analysis.perturbation import random_unit_sets
from rnnbook.analysis.results import Result
from rnnbook.models.interventions import Clamp
from rnnbook.plotting.style import axes_or_new, color_for
from rnnbook.seeding import Seeds


def ideal_observer_correct(trials) -> torch.Tensor:
    """[B] bool: whether the ideal observer is right on each trial of a ``PerceptualDecision``.

    It sums the right-minus-left evidence (the last two input channels) over the stimulus
    period and chooses its sign (right, 1, when positive); its expected accuracy at coherence c
    is ``task.ideal_accuracy(c)``. At zero coherence the correct choice is a coin flip, and so
    is its success.
    """
    stimulus = trials.periods["stimulus"].to(trials.inputs.dtype)  # [B, T]
    evidence = trials.inputs[..., -1] - trials.inputs[..., -2]  # [B, T] right - left
    total = (evidence * stimulus).sum(1)  # [B]
    return ((total > 0).long() == trials.conditions["choice"]).cpu()


def accuracy_by_level(evaluations) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(levels [K], accuracy [S, K], n_trials [S, K])``: accuracy per unsigned coherence of
    each evaluation (one per network, ``rb.evaluate``), which must all have the same levels."""
    tables = [accuracy_by_condition(ev) for ev in evaluations]
    levels = tables[0].levels
    for table in tables[1:]:
        if not np.allclose(table.levels, levels):
            raise ValueError(
                f"accuracy_by_level: levels differ ({table.levels} vs {levels}); use more "
                "test trials so that every level is drawn"
            )
    return (
        levels,
        np.stack([t.accuracy for t in tables]),
        np.stack([t.n_trials for t in tables]),
    )


@dataclass(frozen=True, eq=False)
class MatchedClamp(Result):
    """Swings of the choice when the top-k units, or k random units, are clamped at the
    rates of each choice, every pair with the same imposed rate change.

    norm_top:  ||r_right - r_left|| over the top-k units, at their own clamp values.
    norm_random: [n_draws] the same over each random set.
    norm:      [n_draws] the common size of each pair, min(norm_top, norm_random[j]): the
               larger set's right and left values are shrunk towards their midpoint to it.
    targeted, random: [n_draws] the swing P(1 | right clamp) - P(1 | left clamp) of the top-k
               units and of random set j, each at ``norm[j]``.
    draws:     [n_draws, k] the random units (the ``units`` stream of the seed).
    """

    norm_top: float
    norm_random: torch.Tensor
    norm: torch.Tensor
    targeted: torch.Tensor
    random: torch.Tensor
    draws: torch.Tensor

    @property
    def difference(self) -> torch.Tensor:
        """[n_draws] targeted minus random swing at the same ||dr|| (> 0: the top units
        move the choice more than random ones for the same imposed change)."""
        return self.targeted - self.random


def _clamps_at(values: SignedRates, units: torch.Tensor, norm: float) -> tuple[Clamp, Clamp]:
    """Right and left clamps of ``units`` whose difference has length ``norm`` (<= its own)."""
    right, left = values.positive[units], values.negative[units]
    middle, half = (right + left) / 2, (right - left) / 2
    length = float((right - left).norm())
    scale = norm / length if length > 0 else 0.0
    window = {"start_ms": values.window_ms[0], "stop_ms": values.window_ms[1]}
    return (
        Clamp(units, middle + scale * half, **window),
        Clamp(units, middle - scale * half, **window),
    )


@torch.no_grad()
def matched_clamp_swing(
    model, task, units, values: SignedRates, *, n_draws: int, n_trials: int, seed: int
) -> MatchedClamp:
    """Clamp ``units`` (e.g. the top k of a saliency ranking) and ``n_draws`` random sets of as
    many units at ``values``'s right (positive) and left (negative) rates, over its window, on
    ``n_trials`` trials of ``task`` (trials and noise of ``seed``), every pair with the same
    ``||r_right - r_left||`` (:class:`MatchedClamp`). Unmatched, the most selective units
    would impose the largest change, and a larger swing would not say they matter more."""
    units = torch.as_tensor(units, dtype=torch.long)
    n_rec = model.config.n_rec
    trials = sample_trials(task, n_trials, seed=seed).to(model_device(model))
    generator = Seeds.from_seed(seed).generator("units")
    draws = random_unit_sets(n_rec, len(units), n_draws, generator=generator)

    def swing(unit_set, norm: float) -> float:
        p = []
        for clamp in _clamps_at(values, unit_set, norm):
            outputs = run_trials(model, trials, seed=seed, intervention=clamp).outputs
            p.append(float((task.choices(outputs, trials) == 1).float().mean()))
        return p[0] - p[1]

    def length(unit_set) -> float:
        return float((values.positive[unit_set] - values.negative[unit_set]).norm())

    norm_top = length(units)
    norm_random = torch.tensor([length(d) for d in draws])
    norm = torch.clamp(norm_random, max=norm_top)
    return MatchedClamp(
        norm_top=norm_top,
        norm_random=norm_random,
        norm=norm,
        targeted=torch.tensor([swing(units, float(n)) for n in norm]),
        random=torch.tensor([swing(d, float(n)) for d, n in zip(draws, norm, strict=True)]),
        draws=draws,
    )


DETECTED, NOT_DETECTED = "a difference detected", "no difference detected at this n"


def compare_pairs(values, pairs, *, paired: bool = True, correct=None) -> pd.DataFrame:
    """Conditions compared over networks, one row per ``(a, b)`` of ``pairs``, indexed "a − b".

    values:  name -> [S] one number per network (e.g. its accuracy); ``paired``: entry i of
             every condition belongs to the same seed (the same test trials and noise).
    correct: optional name -> [n] per-trial correctness on trials shared by the conditions
             (e.g. every seed's test trials, concatenated): adds McNemar's paired test.
    Columns: ``diff`` (mean a − mean b), ``low``, ``high`` (bootstrap 95 % interval),
    ``p_value`` (permutation) and ``p_holm`` (Holm-adjusted over the rows), ``reading``
    (:data:`DETECTED` when the interval excludes 0 and the Holm-adjusted p < 0.05; else
    :data:`NOT_DETECTED`), and with
    ``correct``: ``a_only``, ``b_only`` (trials only a, only b got right), ``p_mcnemar``.
    """
    rows = {}
    for a, b in pairs:
        d = compare_means(values[a], values[b], paired=paired)
        row = {"diff": d.diff, "low": d.low, "high": d.high, "p_value": d.p_value}
        row["excludes_zero"] = d.low > 0 or d.high < 0
        if correct is not None:
            t = mcnemar(correct[a], correct[b])
            row |= {"a_only": t.n_a_only, "b_only": t.n_b_only, "p_mcnemar": t.p_value}
        rows[f"{a} − {b}"] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.insert(4, "p_holm", holm(table["p_value"].to_numpy()))
    detected = table.pop("excludes_zero") & (table["p_holm"] < 0.05)
    table.insert(5, "reading", np.where(detected, DETECTED, NOT_DETECTED))
    return table


def fixed_point_table(fixed_points) -> pd.DataFrame:
    """One row per search of ``fixed_points`` (key -> ``rb.FixedPoints``, e.g. (condition,
    seed)): the number of fixed points (``is_fixed``), of each stability kind among them
    (``FixedPoints.counts``: stable, marginal, saddle, source) and the unstable directions of
    each saddle and source (e.g. "1, 3")."""
    rows = {}
    for key, points in fixed_points.items():
        fixed = points[points.is_fixed]
        unstable = sorted(fixed.n_unstable[fixed.n_unstable > 0].tolist())
        rows[key] = {"fixed points": len(fixed)} | fixed.counts()
        rows[key]["unstable directions"] = ", ".join(map(str, unstable)) or "–"
    table = pd.DataFrame.from_dict(rows, orient="index")
    if all(isinstance(key, tuple) for key in rows):
        table.index = pd.MultiIndex.from_tuples(table.index)
    return table


def plot_over_seeds(
    x, values, *, color, label=None, per_seed: bool = True, marker: str | None = None, ax=None
):
    """``values [S, X]`` (one row per network) against ``x [X]``: each network as a thin line
    (``per_seed``), their mean as a thick one and its bootstrap 95 % interval over networks as
    a band (none with one network); returns the Axes."""
    x, values = as_numpy(x).astype(float), np.atleast_2d(as_numpy(values)).astype(float)
    if values.shape[1] != len(x):
        raise ValueError(f"values must be [S, {len(x)}]; got {values.shape}")
    ax = axes_or_new(ax)
    if per_seed:
        for row in values:
            ax.plot(x, row, color=color, lw=0.6, alpha=0.45)
    if len(values) > 1:
        bounds = [mean_ci(column) for column in values.T]
        low, high = [b.low for b in bounds], [b.high for b in bounds]
        ax.fill_between(x, low, high, color=color, alpha=0.2, lw=0)
    ax.plot(x, values.mean(0), color=color, lw=1.8, marker=marker, label=label)
    return ax


def plot_per_network(values, *, colors=None, ax=None):
    """One number per network, by condition (``values``: name -> [S]): each network a dot, the
    mean over networks a bar with its bootstrap 95 % interval; the conditions' colours are
    ``colors`` (name -> colour) or ``color_for(name)``; returns the Axes."""
    ax = axes_or_new(ax)
    for i, (name, v) in enumerate(values.items()):
        v = as_numpy(v).astype(float).ravel()
        color = (colors or {}).get(name) or color_for(name)
        offsets = np.linspace(-0.12, 0.12, len(v)) if len(v) > 1 else np.zeros(1)
        ax.scatter(i + 0.18 + offsets, v, s=14, color=color, alpha=0.7, lw=0)
        if len(v) > 1:
            e = mean_ci(v)
            ax.errorbar(
                i - 0.12,
                e.mean,
                yerr=[[e.mean - e.low], [e.high - e.mean]],
                fmt="s",
                color=color,
                ms=5,
                capsize=3,
            )
    ax.set_xticks(range(len(values)), list(values))
    ax.set_xlim(-0.6, len(values) - 0.4)
    return ax


def plot_psychometrics(curves, colors, *, ax=None):
    """Named psychometric fits (name -> ``rb.psychometric``) in the given ``colors`` (name ->
    colour): the fraction of rightward choices per level with binomial standard errors and
    the fitted logistic; returns the Axes."""
    ax = axes_or_new(ax)
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":", zorder=0)
    ax.axvline(0.0, color="0.6", lw=0.8, ls=":", zorder=0)
    low = min(float(c.levels.min()) for c in curves.values())
    high = max(float(c.levels.max()) for c in curves.values())
    grid = np.linspace(low, high, 201)
    for name, curve in curves.items():
        ax.errorbar(
            curve.levels, curve.p_choice, yerr=curve.p_choice_sem, fmt="o", ms=3, color=colors[name]
        )
        ax.plot(grid, curve.predict(grid), color=colors[name], label=name)
    ax.set(ylim=(-0.03, 1.03), xlabel="signed coherence c", ylabel="P(choose right)")
    ax.legend()
    return ax
