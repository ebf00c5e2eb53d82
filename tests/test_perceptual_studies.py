"""The perceptual pages' helpers: curriculum histories, curves over seeds, paired comparisons."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from test_analysis import drifting_evaluation  # noqa: E402

from rnnbook.perceptual_studies import (  # noqa: E402
    arrival_step,
    compare_table,
    curve_after,
    format_table,
    ideal_logistic_slope,
    plot_band,
    pooled_mcnemar,
    seed_values,
    stack_curves,
    steps_at_level,
    steps_to_criterion,
    summarise_evaluation,
    trial_masks,
)
from rnnbook.tasks import PerceptualDecision, PerceptualDecisionConfig  # noqa: E402
from rnnbook.training.history import History  # noqa: E402


def curriculum_history():
    """Evaluations every 10 steps; the level drops 1.0 -> 0.5 at step 20, -> 0.1 at step 40."""
    evals = list(range(0, 101, 10))
    accuracy = [0.5, 0.9, 0.95, 0.9, 0.6, 0.65, 0.7, 0.82, 0.78, 0.85, 0.86]
    events = [(0, "coherences = 1"), (20, "coherences = 0.5"), (40, "coherences = 0.1")]
    steps = list(range(100))
    return History(steps, [0.0] * 100, [0.0] * 100, evals, [0.0] * 11, accuracy, events)


def test_arrival_and_steps_to_criterion():
    history = curriculum_history()
    assert arrival_step(history, 0.1) == 40
    assert arrival_step(history, 0.5) == 20
    assert arrival_step(history, 0.2) is None
    steps, accuracy = curve_after(history, 40)  # the evaluation at 40 tested the level before
    np.testing.assert_array_equal(steps, [10, 20, 30, 40, 50, 60])
    np.testing.assert_allclose(accuracy, [0.65, 0.7, 0.82, 0.78, 0.85, 0.86])
    assert steps_to_criterion(history, 0.8, start=40) == 30
    assert np.isnan(steps_to_criterion(history, 0.99, start=40))
    # from scratch: the evaluation before any training counts as step 0
    steps, _ = curve_after(history, 0)
    assert steps[0] == 0 and len(steps) == 11
    assert steps_to_criterion(history, 0.9) == 10
    assert steps_to_criterion(history, 0.99, start=40, budget=60) == 60  # censored
    assert steps_at_level(history, 0.1) == 60
    with pytest.raises(ValueError, match="never reached level 0.2"):
        steps_at_level(history, 0.2)


def test_non_level_events_are_ignored():
    history = History(events=[(5, "stopped: accuracy 0.900"), (7, "lr = 0.5x")])
    assert arrival_step(history, 0.5) is None


def test_stack_curves_cuts_to_the_shortest():
    x, values = stack_curves([(np.array([0, 10, 20]), [1, 2, 3]), (np.array([0, 10]), [4, 5])])
    np.testing.assert_array_equal(x, [0, 10])
    np.testing.assert_array_equal(values, [[1, 2], [4, 5]])
    with pytest.raises(ValueError, match="differ"):
        stack_curves([(np.array([0, 10]), [1, 2]), (np.array([0, 20]), [1, 2])])


def test_compare_table_detects_a_shift_and_not_noise():
    rng = np.random.default_rng(0)
    base = rng.normal(0.8, 0.02, 8)
    values = {"acc": {"a": base + 0.1, "b": base, "c": base + 1e-3 * np.array([1, -1] * 4)}}
    correct = {
        "a": [np.array([1, 1, 1, 0], bool)] * 8,
        "b": [np.array([0, 0, 1, 1], bool)] * 8,
        "c": [np.array([0, 0, 1, 1], bool)] * 8,
    }
    table = compare_table(
        values,
        {"a_vs_b": ("acc", "a", "b"), "c_vs_b": ("acc", "c", "b")},
        correct=correct,
        trials={"acc": np.array([1, 1, 1, 0], bool)},
    )
    assert list(table.index) == ["a_vs_b", "c_vs_b"] and list(table["a"]) == ["a", "c"]
    first, second = table.loc["a_vs_b"], table.loc["c_vs_b"]
    assert first["McNemar p"] == pytest.approx(2 * 0.5**16)  # 16 trials only a got right
    assert second["McNemar p"] == pytest.approx(1.0)  # no discordant trial
    shown = format_table(table, labels={"acc": "accuracy"})
    assert list(shown.index) == ["accuracy"] * 2
    assert list(shown["comparison"]) == ["a − b", "c − b"]
    assert shown.iloc[0]["a − b [95 % interval]"] == "0.1 [0.1, 0.1]"
    assert shown.iloc[1]["McNemar p"] == "1"
    no_trials = compare_table(values, {"x": ("acc", "a", "b")})
    assert np.isnan(no_trials.loc["x", "McNemar p"])
    assert first["a - b"] == pytest.approx(0.1) and first["detected"]
    assert first["95% low"] == pytest.approx(0.1) and first["95% high"] == pytest.approx(0.1)
    assert second["95% low"] < 0 < second["95% high"] and not second["detected"]


def test_pooled_mcnemar_counts_discordant_trials_over_seeds():
    a = [np.array([1, 1, 0, 1], bool), np.array([1, 0, 1, 1], bool)]
    b = [np.array([1, 0, 0, 0], bool), np.array([1, 0, 1, 0], bool)]
    test = pooled_mcnemar(a, b)
    assert (test.n_a_only, test.n_b_only, test.n) == (3, 0, 8)
    assert test.diff == pytest.approx(3 / 8)
    with pytest.raises(ValueError, match="per seed"):
        pooled_mcnemar(a, b[:1])


def test_summary_keeps_what_the_pages_use():
    rng = np.random.default_rng(1)
    ev, _ = drifting_evaluation(rng)
    coherence = ev.trials.conditions["coherence"].numpy()
    choices = rng.random(len(coherence)) < 1 / (1 + np.exp(-20.0 * coherence))
    ev.choices = torch.as_tensor(choices.astype(int))
    ev.correct = torch.as_tensor(choices == (coherence > 0))
    summary = summarise_evaluation(ev)
    assert summary.correct.dtype == bool and summary.correct.shape == (400,)
    assert summary.accuracy.pooled(0.0) == pytest.approx(summary.correct.mean())
    assert summary.curve.slope > 0
    assert summary.trajectories.projections.shape[0] == 4
    values = seed_values({"x": [summary, summary]}, strong=0.2, hard=0.1)
    assert set(values) == {"accuracy_strong", "accuracy_hard", "slope", "bias"}
    np.testing.assert_allclose(values["slope"]["x"], [summary.curve.slope] * 2)
    masks = trial_masks(summary, strong=0.2, hard=0.1)
    np.testing.assert_array_equal(masks["accuracy_strong"], np.abs(coherence) >= 0.2 - 1e-7)
    np.testing.assert_array_equal(masks["accuracy_hard"], np.isclose(np.abs(coherence), 0.1))
    assert values["accuracy_hard"]["x"][0] == pytest.approx(
        summary.correct[masks["accuracy_hard"]].mean()
    )


def test_plot_band_draws_mean_and_sd():
    values = np.array([[0.0, 1.0], [2.0, 3.0]])
    ax = plot_band([0, 1], values, color="k", label="m")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.0, 2.0])
    assert len(ax.collections) == 1  # the ± SD band
    ax = plot_band([0, 1], values, color="k", limits=(0.5, 2.5))
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == 0.5 and band.max() == 2.5
    ax = plot_band([0, 1], values[:1], color="k")
    assert len(ax.collections) == 0  # one seed: no spread to draw


def test_ideal_logistic_slope_matches_the_ideal_observer():
    from scipy.stats import norm

    task = PerceptualDecision(PerceptualDecisionConfig(dt=20.0, sigma_stim=1.5))
    n = round(task.config.stimulus_ms / task.config.dt)
    slope = ideal_logistic_slope(n, task.config.sigma_stim / np.sqrt(task.config.dt))
    c = np.linspace(0.01, 0.3, 30)
    ideal = np.array([task.ideal_accuracy(x) for x in c])
    np.testing.assert_allclose(1 / (1 + np.exp(-slope * c)), ideal, atol=0.01)
    assert ideal_logistic_slope(8, 1.0) == pytest.approx(2 * 1.702)
    assert norm.cdf(1.0) == pytest.approx(1 / (1 + np.exp(-1.702)), abs=0.01)
    with pytest.raises(ValueError, match="noise_sd > 0"):
        ideal_logistic_slope(8, 0.0)
