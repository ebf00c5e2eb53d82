"""Seed 001's page helpers (rnnbook.gating_studies) against known answers: the ideal observer is
always right without noise and right at its analytic rate with noise; matched clamps impose the
same rate change on both sets of a pair; on a hand-built network whose units 0 and 1 alone
reach the readout, those units swing the choice and units that send nothing do not."""

import matplotlib
import numpy as np
import pytest
import torch
from clamp_network import two_readout_units_network

from rnnbook.analysis import evaluate, find_fixed_points, signed_mean_rates
from rnnbook.analysis.clamps import period_window
from rnnbook.gating_studies import (
    DETECTED,
    NOT_DETECTED,
    _clamps_at,
    accuracy_by_level,
    compare_pairs,
    fixed_point_table,
    ideal_observer_correct,
    matched_clamp_swing,
    plot_over_seeds,
    plot_per_network,
    plot_psychometrics,
)
from rnnbook.models import ModelConfig, RateRNN
from rnnbook.tasks import PerceptualDecision, PerceptualDecisionConfig

matplotlib.use("Agg")

TASK = PerceptualDecision(PerceptualDecisionConfig(coherences=(0.4,), sigma_stim=1.0))
ZERO = TASK.with_config(coherences=(0.0,))


def test_the_ideal_observer_is_always_right_without_noise():
    task = TASK.with_config(sigma_stim=0.0, coherences=(0.05, 0.4))
    trials = task.sample(256, generator=torch.Generator().manual_seed(0))
    assert ideal_observer_correct(trials).all()


@pytest.mark.parametrize("coherence", [0.0, 0.05, 0.1])
def test_the_ideal_observer_is_right_at_its_analytic_rate(coherence):
    task = TASK.with_config(coherences=(coherence,), sigma_stim=1.5)
    trials = task.sample(20000, generator=torch.Generator().manual_seed(1))
    p = task.ideal_accuracy(coherence)
    measured = ideal_observer_correct(trials).float().mean().item()
    assert abs(measured - p) < 4 * np.sqrt(p * (1 - p) / 20000)


@pytest.fixture(scope="module")
def model():
    return two_readout_units_network()


@pytest.fixture(scope="module")
def values(model):
    ev = evaluate(model, TASK, 256)
    start, stop = period_window(ev.trials, "stimulus")
    return signed_mean_rates(ev, start_ms=start, stop_ms=stop)


def test_accuracy_by_level_stacks_one_row_per_network(model):
    task = TASK.with_config(coherences=(0.0, 0.4))
    evs = [evaluate(model, task, 128, seed=s) for s in range(3)]
    levels, accuracy, n = accuracy_by_level(evs)
    assert np.allclose(levels, [0.0, 0.4]) and accuracy.shape == n.shape == (3, 2)
    assert (n.sum(1) == 128).all() and (accuracy[:, 1] > 0.9).all()


def test_a_matched_clamp_pair_imposes_the_requested_change(values):
    units = torch.tensor([0, 1])
    full = float((values.positive[units] - values.negative[units]).norm())
    for norm in (full, full / 3):
        right, left = _clamps_at(values, units, norm)
        assert float((right.values - left.values).norm()) == pytest.approx(norm, rel=1e-5)
        middle = (values.positive[units] + values.negative[units]) / 2
        assert torch.allclose((right.values + left.values) / 2, middle)


def test_matched_clamps_of_the_readout_units_beat_units_that_send_nothing(model, values):
    matched = matched_clamp_swing(
        model, ZERO, torch.tensor([0, 1]), values, n_draws=8, n_trials=256, seed=0
    )
    assert torch.allclose(matched.norm, matched.norm_random.clamp(max=matched.norm_top))
    silent = [i for i, d in enumerate(matched.draws.tolist()) if not {0, 1} & set(d)]
    assert silent, "some draw should miss both readout units"
    assert (matched.random[silent].abs() < 1e-6).all()  # units that send nothing decide nothing
    assert (matched.targeted > 0.5).all() and (matched.difference[silent] > 0.5).all()


def test_the_fixed_point_table_counts_the_kinds_of_two_uncoupled_bistable_units():
    # dx/dt = (-x + 2 tanh x) / tau per unit: x = 0 (unstable) or +-x* (stable). Two units:
    # 4 stable points, 4 saddles with 1 unstable direction, and a source at the origin
    config = ModelConfig(
        n_in=1, n_out=1, n_rec=2, dt=20.0, tau=100.0, bias=False, activation="tanh"
    )
    net = RateRNN(config, seed=0).set_effective_weights(
        recurrent=2 * torch.eye(2), input=torch.zeros(2, 1)
    )
    grid = torch.tensor([-2.0, 1e-3, 2.0])
    starts = torch.cartesian_prod(grid, grid)  # [9, 2]
    table = fixed_point_table({("net", 0): find_fixed_points(net, torch.zeros(1), starts)})
    row = table.loc[("net", 0)]
    assert row["fixed points"] == 9 and row["marginal"] == 0
    assert (row["stable"], row["saddle"], row["source"]) == (4, 4, 1)
    assert row["unstable directions"] == "1, 1, 1, 1, 2"


def test_plot_over_seeds_draws_each_network_and_the_mean_with_a_band():
    values = np.array([[0.5, 0.7, 0.9], [0.6, 0.8, 0.85], [0.55, 0.75, 0.95]])
    ax = plot_over_seeds([0, 1, 2], values, color="k", label="mean")
    assert len(ax.lines) == 4 and len(ax.collections) == 1
    assert np.allclose(ax.lines[-1].get_ydata(), values.mean(0))
    with pytest.raises(ValueError, match=r"\[S, 2\]"):
        plot_over_seeds([0, 1], values, color="k")


def test_compare_pairs_reads_a_clear_difference_and_a_null_one():
    rng = np.random.default_rng(0)
    values = {"a": 0.8 + 0.01 * rng.standard_normal(8), "b": 0.7 + 0.01 * rng.standard_normal(8)}
    values["c"] = values["b"] + 0.01 * np.array([1, -1] * 4)  # mean difference 0
    correct = {"a": np.ones(100, bool), "b": np.arange(100) % 2 == 0, "c": np.arange(100) % 2 == 0}
    table = compare_pairs(values, [("a", "b"), ("c", "b")], correct=correct)
    assert list(table.index) == ["a − b", "c − b"]
    assert table.loc["a − b", "reading"] == DETECTED and table.loc["a − b", "low"] > 0.05
    assert table.loc["c − b", "reading"] == NOT_DETECTED
    assert table.loc["a − b", "a_only"] == 50 and table.loc["a − b", "b_only"] == 0
    assert table.loc["c − b", "p_mcnemar"] == 1.0
    assert (table["p_holm"] >= table["p_value"]).all()


def test_plot_per_network_draws_every_network_and_each_mean():
    ax = plot_per_network({"baseline": [1.0, 2.0, 3.0], "ACG": [4.0, 5.0, 6.0]})
    assert [t.get_text() for t in ax.get_xticklabels()] == ["baseline", "ACG"]
    assert sum(len(c.get_offsets()) for c in ax.collections if len(c.get_offsets()) == 3) == 6


def test_plot_psychometrics_uses_the_given_colours(model):
    from rnnbook.analysis import psychometric

    task = TASK.with_config(coherences=(0.0, 0.1, 0.4))
    curves = {"intact": psychometric(evaluate(model, task, 256))}
    ax = plot_psychometrics(curves, {"intact": "#333333"})
    assert matplotlib.colors.to_hex(ax.lines[-1].get_color()) == "#333333"
