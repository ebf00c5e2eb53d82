"""What the perceptual-decision pages (seed 001) need beyond the package's general parts.

- :class:`NetworkSummary`, :func:`summarise`: what the pages keep of one network's test
  (accuracy per coherence, psychometric fit, per-trial correctness, PCA trajectories), so
  that many networks can be tested without keeping their rollouts; :func:`seed_values` and
  :func:`trial_masks`: their measures per seed and the test trials each counts;
- :func:`arrival_step`, :func:`steps_at_level`, :func:`steps_to_criterion`,
  :func:`curve_after`: reading a curriculum run's history at its hardest level, and a control
  run's from its start;
- :func:`stack_curves`: curves of several seeds on one step grid, ``[S, X]``;
- :func:`compare_table`, :func:`format_table`, :func:`pooled_mcnemar`: paired comparisons
  of conditions over seeds (bootstrap interval of the mean difference; McNemar on the shared
  test trials);
- :func:`ideal_logistic_slope`: the ideal observer's psychometric slope, to compare tasks;
- :func:`plot_band`: a mean curve over seeds with its spread (mean ± SD) as a band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnbook.analysis import (
    Evaluation,
    accuracy_by_condition,
    evaluate_on,
    psychometric,
    trajectory_pca,
)
from rnnbook.analysis.accuracy import ConditionAccuracy
from rnnbook.analysis.comparison import compare_means, mcnemar
from rnnbook.analysis.pca import TrajectoryPCA
from rnnbook.analysis.psychometric import Psychometric
from rnnbook.plotting.style import axes_or_new
from rnnbook.training.history import History


@dataclass(frozen=True)
class NetworkSummary:
    """One network's test on shared trials, without its rollout.

    accuracy:     accuracy per |coherence| (``rb.accuracy_by_condition``);
    curve:        the fitted psychometric curve (``rb.psychometric``);
    correct:      [B] bool, each test trial answered correctly (for paired tests);
    trajectories: condition-averaged rates in their first principal components.
    """

    accuracy: ConditionAccuracy
    curve: Psychometric
    correct: np.ndarray
    trajectories: TrajectoryPCA


def summarise_evaluation(evaluation: Evaluation) -> NetworkSummary:
    """The :class:`NetworkSummary` of an evaluation of a task with a ``coherence`` condition."""
    return NetworkSummary(
        accuracy=accuracy_by_condition(evaluation),
        curve=psychometric(evaluation),
        correct=evaluation.correct.numpy().astype(bool),
        trajectories=trajectory_pca(evaluation),
    )


def summarise(model, task, trials, *, seed: int, **kwargs) -> NetworkSummary:
    """Test ``model`` on ``trials`` of ``task`` (``rb.evaluate_on``, its noise from ``seed``;
    ``kwargs`` passed on, e.g. ``h0``) and keep only the summary."""
    return summarise_evaluation(evaluate_on(model, task, trials, seed=seed, **kwargs))


def seed_values(
    summaries: dict[str, list[NetworkSummary]], *, strong: float, hard: float | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """measure -> condition -> [S], from each condition's summaries (one per seed):
    ``accuracy_strong`` (pooled over |c| >= ``strong``), ``accuracy_hard`` (at |c| = ``hard``,
    if given), ``slope`` and ``bias`` of the psychometric fit."""
    measures = {
        "accuracy_strong": lambda s: s.accuracy.pooled(strong),
        "slope": lambda s: s.curve.slope,
        "bias": lambda s: s.curve.bias,
    }
    if hard is not None:
        measures["accuracy_hard"] = lambda s: s.accuracy.at(hard)
    return {
        measure: {name: np.array([f(s) for s in group]) for name, group in summaries.items()}
        for measure, f in measures.items()
    }


def trial_masks(summary: NetworkSummary, *, strong: float, hard: float | None = None):
    """measure -> [B] bool, the test trials each accuracy of :func:`seed_values` counts."""
    levels = summary.accuracy.trial_levels  # [B] |coherence|
    masks = {"accuracy_strong": levels >= strong - 1e-6 * max(1.0, strong)}
    if hard is not None:
        masks["accuracy_hard"] = np.isclose(levels, hard, rtol=1e-5, atol=1e-7)
    return masks


LOGISTIC_PROBIT = 1.702  # sigma(1.702 z) approximates Phi(z) to within 0.01 everywhere


def ideal_logistic_slope(n_stimulus_steps: float, noise_sd: float) -> float:
    """The logistic slope (per unit coherence) of the ideal observer of a 2AFC task whose
    stimulus adds ``c`` to one of two channels for ``n_stimulus_steps`` steps of independent
    Gaussian noise ``noise_sd`` per channel and step: it chooses right with probability
    ``Phi(c sqrt(n / 2) / s)``, a logistic of slope ~ ``1.702 sqrt(n / 2) / s``. The scale on
    which two tasks' psychometric slopes can be compared."""
    if n_stimulus_steps <= 0 or noise_sd <= 0:
        raise ValueError(
            f"ideal_logistic_slope needs n_stimulus_steps > 0 and noise_sd > 0, got "
            f"{n_stimulus_steps!r} and {noise_sd!r}"
        )
    return LOGISTIC_PROBIT * float(np.sqrt(n_stimulus_steps / 2)) / noise_sd


def _level_of(text: str) -> float | None:
    """The level of a curriculum event ``"field = level"``, or None for other events."""
    name, _, value = text.partition(" = ")
    try:
        return float(value) if name and value else None
    except ValueError:
        return None


def arrival_step(history: History, level: float) -> int | None:
    """The training step at which a curriculum moved to ``level`` (None: it never did)."""
    for step, text in history.events:
        found = _level_of(text)
        if found is not None and np.isclose(found, level, rtol=1e-6, atol=1e-9):
            return int(step)
    return None


def curve_after(history: History, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Validation accuracy after step ``start``: (steps since ``start`` [X], accuracy [X]).

    For a curriculum run from its arrival at the hardest level (the evaluation at ``start``
    itself tested the level before; later ones test this level); for a run trained on the
    hard level from scratch, from ``start`` = 0 (its evaluation before any training kept).
    """
    steps = np.asarray(history.eval_step)
    accuracy = np.asarray(history.eval_accuracy, dtype=float)
    keep = steps >= start if start == 0 else steps > start
    return steps[keep] - start, accuracy[keep]


def steps_to_criterion(
    history: History, criterion: float, *, start: int = 0, budget: float | None = None
) -> float:
    """Training steps after ``start`` until validation accuracy first reaches ``criterion``
    (see :func:`curve_after`); if it never does: ``budget`` (a lower bound: the steps the run
    had), or NaN without one."""
    steps, accuracy = curve_after(history, start)
    reached = np.flatnonzero(accuracy >= criterion)
    if len(reached):
        return float(steps[reached[0]])
    return float("nan") if budget is None else float(budget)


def steps_at_level(history: History, level: float) -> int:
    """The training steps a curriculum run spent at ``level`` (its last, hardest one): its
    steps after :func:`arrival_step`. Raises ValueError naming the fix if it never got there."""
    start = arrival_step(history, level)
    if start is None:
        raise ValueError(
            f"the curriculum never reached level {level:g} in {history.n_steps} steps: raise "
            "n_steps, or lower curriculum_every or curriculum_threshold"
        )
    return history.n_steps - start


def stack_curves(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Curves ``(x [X_s], y [X_s])`` of several seeds on their common first steps:
    (x [X], values [S, X]) with X the shortest curve's length; the x must agree there."""
    if not curves:
        raise ValueError("stack_curves needs at least one curve")
    n = min(len(x) for x, _ in curves)
    x = np.asarray(curves[0][0][:n])
    for other, _ in curves[1:]:
        if not np.array_equal(np.asarray(other[:n]), x):
            raise ValueError("stack_curves: the curves' x values differ on their common steps")
    return x, np.stack([np.asarray(y[:n], dtype=float) for _, y in curves])


def compare_table(
    values: dict[str, dict[str, np.ndarray]],
    pairs: dict[str, tuple[str, str, str]],
    *,
    correct: dict[str, list[np.ndarray]] | None = None,
    trials: dict[str, np.ndarray] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired comparisons over seeds, one row per ``pairs`` entry ``key: (measure, a, b)``:
    ``values[measure][condition]`` is [S] (one value per seed, the same seeds in every
    condition). Columns: the two means, the mean difference a - b, its 95 % bootstrap
    interval, the sign-flip p-value, whether the interval excludes 0, and, for a measure in
    ``trials`` (measure -> [B] bool, the test trials it counts), the pooled McNemar p-value
    of ``correct[condition]`` (one [B] per seed) on those trials (else NaN)."""
    trials = trials or {}
    rows = {}
    for key, (measure, a, b) in pairs.items():
        x, y = np.asarray(values[measure][a]), np.asarray(values[measure][b])
        d = compare_means(x, y, paired=True, seed=seed)
        paired = float("nan")
        if measure in trials:
            keep = np.asarray(trials[measure], dtype=bool)
            paired = pooled_mcnemar(
                [c[keep] for c in correct[a]], [c[keep] for c in correct[b]]
            ).p_value
        rows[key] = {
            "measure": measure,
            "a": a,
            "b": b,
            "mean a": x.mean(),
            "mean b": y.mean(),
            "a - b": d.diff,
            "95% low": d.low,
            "95% high": d.high,
            "p": d.p_value,
            "detected": d.detected,
            "McNemar p": paired,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def format_table(table: pd.DataFrame, labels: dict | None = None, digits: int = 3):
    """:func:`compare_table` for reading: one row per comparison, indexed by its measure
    (renamed by ``labels``, measure -> text), with "a − b", the two means, the difference with
    its 95 % interval as text, and the p-values."""
    labels = labels or {}

    def fmt(x):
        return f"{x:.{digits}g}" if abs(x) < 10**digits else f"{x:.0f}"

    pairs = zip(table["a"], table["b"], strict=True)
    intervals = zip(table["a - b"], table["95% low"], table["95% high"], strict=True)
    return pd.DataFrame(
        {
            "comparison": [f"{a} − {b}" for a, b in pairs],
            "mean a": table["mean a"].map(fmt).to_numpy(),
            "mean b": table["mean b"].map(fmt).to_numpy(),
            "a − b [95 % interval]": [
                f"{fmt(d)} [{fmt(lo)}, {fmt(hi)}]" for d, lo, hi in intervals
            ],
            "p (seeds)": table["p"].map(lambda p: f"{p:.2g}").to_numpy(),
            "McNemar p": table["McNemar p"]
            .map(lambda p: "" if np.isnan(p) else f"{p:.2g}")
            .to_numpy(),
        },
        index=[labels.get(m, m) for m in table["measure"]],
    )


def pooled_mcnemar(correct_a: list[np.ndarray], correct_b: list[np.ndarray]):
    """``rb.mcnemar`` on per-trial correctness pooled over seeds: seed s's network of one
    condition against seed s's of the other, each [B] on the same test trials."""
    if len(correct_a) != len(correct_b):
        raise ValueError("pooled_mcnemar: both conditions need one network per seed")
    return mcnemar(np.concatenate(correct_a), np.concatenate(correct_b))


def plot_band(x, values, *, color, label=None, marker=None, limits=None, ax=None):
    """The mean over seeds of ``values [S, X]`` against ``x [X]`` with a band of ± one SD
    (none for one seed), clipped to ``limits`` (low, high) if given, e.g. (0, 1) for
    probabilities; returns the Axes."""
    ax = axes_or_new(ax)
    values = np.atleast_2d(np.asarray(values, dtype=float))
    mean = values.mean(axis=0)
    ax.plot(x, mean, color=color, label=label, marker=marker)
    if len(values) > 1:
        sd = values.std(axis=0, ddof=1)
        low, high = mean - sd, mean + sd
        if limits is not None:
            low, high = np.clip(low, *limits), np.clip(high, *limits)
        ax.fill_between(x, low, high, color=color, alpha=0.2, lw=0)
    return ax
