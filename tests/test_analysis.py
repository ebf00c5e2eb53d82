"""Analyses against known answers: psychometric fits, PCA, accuracy per condition."""

import numpy as np
import pytest
import torch

from rnnbook.analysis import (
    Evaluation,
    accuracy_by_condition,
    fit_psychometric,
    pca,
    psychometric,
    trajectory_pca,
)
from rnnbook.analysis.pca import condition_means
from rnnbook.models import Rollout
from rnnbook.tasks import Trials

LEVELS = np.array([-0.4, -0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.4])


def simulate_choices(n, b0, b1, rng):
    """Signed stimuli [n] drawn from LEVELS and logistic choices [n]."""
    s = rng.choice(LEVELS, n)
    p = 1 / (1 + np.exp(-(b0 + b1 * s)))
    return s, (rng.random(n) < p).astype(int)


def make_evaluation(coherence, correct=None, choices=None, states=None, dt=20.0):
    """A hand-made Evaluation: coherence [B]; states [B, T, N] (zeros [B, 2, 3] by default)."""
    coherence = torch.as_tensor(coherence, dtype=torch.float32)
    states = torch.zeros(len(coherence), 2, 3) if states is None else torch.as_tensor(states)
    b, t = states.shape[:2]
    trials = Trials(
        inputs=torch.zeros(b, t, 2),
        targets=torch.zeros(b, t, dtype=torch.long),
        mask=torch.ones(b, t),
        conditions={"coherence": coherence, "choice": (coherence > 0).long()},
        dt=dt,
    )
    rollout = Rollout(torch.zeros(b, t, 2), states, torch.relu(states))
    return Evaluation(trials, rollout, _tensor_or_none(choices), _tensor_or_none(correct))


def _tensor_or_none(x):
    return None if x is None else torch.as_tensor(x)


# --- psychometric ---------------------------------------------------------------------------


def test_fit_recovers_simulated_slope_and_bias():
    s, y = simulate_choices(20000, 0.3, 8.0, np.random.default_rng(1))
    fit = fit_psychometric(s, y)
    assert abs(fit.slope - 8.0) < 3 * fit.slope_se
    assert abs(fit.intercept - 0.3) < 3 * fit.intercept_se
    assert abs(fit.bias - (-0.3 / 8.0)) < 3 * fit.bias_se
    assert fit.slope_ci[0] < 8.0 < fit.slope_ci[1]
    assert fit.slope_ci[1] - fit.slope == pytest.approx(1.959964 * fit.slope_se)
    assert fit.n == 20000 and fit.n_trials.sum() == 20000
    np.testing.assert_allclose(fit.levels, LEVELS)


def test_standard_errors_match_spread_over_datasets():
    rng = np.random.default_rng(2)
    fits = [fit_psychometric(*simulate_choices(2000, 0.3, 8.0, rng)) for _ in range(40)]
    for name in ("slope", "bias", "intercept"):
        spread = np.std([getattr(f, name) for f in fits], ddof=1)
        reported = np.mean([getattr(f, f"{name}_se") for f in fits])
        assert reported == pytest.approx(spread, rel=0.3), name


def test_binned_data_and_prediction():
    s = np.array([-1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0])
    y = np.array([0, 1, 0, 1, 1, 1, 1, 1])
    fit = fit_psychometric(s, y)
    np.testing.assert_array_equal(fit.levels, [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(fit.p_choice, [0.5, 0.75, 1.0])
    np.testing.assert_array_equal(fit.n_trials, [2, 4, 2])
    assert fit.predict(fit.bias) == pytest.approx(0.5)
    assert "slope" in fit.summary() and "8 trials" in fit.summary()


def test_torch_inputs_give_the_numpy_fit():
    s, y = simulate_choices(500, 0.0, 5.0, np.random.default_rng(3))
    a = fit_psychometric(s, y)
    b = fit_psychometric(torch.tensor(s, dtype=torch.float64), torch.tensor(y))
    assert (a.slope, a.bias, a.slope_se) == pytest.approx((b.slope, b.bias, b.slope_se))


def test_separable_choices_still_converge():
    s = np.tile([-0.2, -0.1, 0.1, 0.2], 10)
    fit = fit_psychometric(s, (s > 0).astype(int))
    assert np.isfinite(fit.slope) and fit.slope > 20
    assert abs(fit.bias) < 1e-6
    assert fit.predict(-0.1) < 0.01 and fit.predict(0.1) > 0.99


def test_identical_choices_or_one_level_raise():
    with pytest.raises(ValueError, match="all 6 choices are 1.*both choices"):
        fit_psychometric(np.linspace(-1, 1, 6), np.ones(6))
    with pytest.raises(ValueError, match="fewer than 2 distinct stimulus"):
        fit_psychometric(np.zeros(6), [0, 1, 0, 1, 1, 0])
    with pytest.raises(ValueError, match="0 or 1"):
        fit_psychometric([0.0, 1.0], [0, 2])


def test_psychometric_of_an_evaluation_uses_its_choices():
    s, y = simulate_choices(300, 0.2, 6.0, np.random.default_rng(4))
    ev = make_evaluation(s, correct=y == (s > 0), choices=y)
    assert psychometric(ev).slope == pytest.approx(
        fit_psychometric(ev.trials.conditions["coherence"], y).slope
    )
    with pytest.raises(ValueError, match="no condition 'duration'"):
        psychometric(ev, key="duration")


# --- accuracy by condition ------------------------------------------------------------------


def test_accuracy_by_condition_hand_computed():
    coherence = [-0.1, 0.1, 0.1, -0.2, 0.2, 0.0, 0.0, 0.7]
    correct = [True, False, True, True, True, False, True, True]
    acc = accuracy_by_condition(make_evaluation(coherence, correct=correct))
    np.testing.assert_allclose(acc.levels, [0.0, 0.1, 0.2, 0.7], rtol=1e-6)
    np.testing.assert_array_equal(acc.n_trials, [2, 3, 2, 1])
    np.testing.assert_allclose(acc.accuracy, [0.5, 2 / 3, 1.0, 1.0])
    np.testing.assert_allclose(acc.sem, [np.sqrt(0.25 / 2), np.sqrt(2 / 9 / 3), 0.0, 0.0])
    assert acc.pooled(0.1) == pytest.approx(5 / 6)
    assert acc.pooled(0.0) == pytest.approx(6 / 8)
    assert acc.pooled(0.7) == 1.0  # 0.7 is 0.69999999 in float32: still included
    with pytest.raises(ValueError, match="no trial has coherence >= 0.8"):
        acc.pooled(0.8)


def test_accuracy_by_signed_condition():
    coherence = [-0.1, 0.1, 0.1, -0.1]
    acc = accuracy_by_condition(make_evaluation(coherence, correct=[0, 1, 1, 1]), absolute=False)
    np.testing.assert_allclose(acc.levels, [-0.1, 0.1], rtol=1e-6)
    np.testing.assert_allclose(acc.accuracy, [0.5, 1.0])
    with pytest.raises(ValueError, match="task with choices"):
        accuracy_by_condition(make_evaluation(coherence))


# --- PCA ------------------------------------------------------------------------------------


def test_pca_of_a_plane_in_20d_is_exact():
    rng = np.random.default_rng(5)
    basis = np.linalg.qr(rng.normal(size=(20, 2)))[0].T  # [2, 20]
    data = rng.normal(size=(200, 2)) * [3.0, 1.0] @ basis + rng.normal(size=20)  # [200, 20]
    fit = pca(data, 3)
    assert fit.explained_variance_ratio[:2].sum() == pytest.approx(1.0, abs=1e-6)
    assert fit.explained_variance_ratio[2] == pytest.approx(0.0, abs=1e-12)
    two = pca(data, 2)
    np.testing.assert_allclose(two.reconstruct(two.project(data)), data, atol=1e-10)
    np.testing.assert_allclose(two.components @ two.components.T, np.eye(2), atol=1e-12)


def test_pca_variances_and_signs():
    rng = np.random.default_rng(6)
    data = rng.normal(size=(300, 10)) @ rng.normal(size=(10, 10))
    fit = pca(torch.tensor(data), 5)
    np.testing.assert_allclose(fit.components @ fit.components.T, np.eye(5), atol=1e-12)
    eigvals = np.linalg.eigvalsh(np.cov(data.T))[::-1]
    np.testing.assert_allclose(fit.explained_variance, eigvals[:5], rtol=1e-10)
    np.testing.assert_allclose(fit.explained_variance_ratio, eigvals[:5] / eigvals.sum())
    np.testing.assert_allclose(fit.project(data).var(axis=0, ddof=1), eigvals[:5], rtol=1e-10)
    largest = fit.components[np.arange(5), np.abs(fit.components).argmax(axis=1)]
    assert np.all(largest > 0)
    shuffled = pca(data[rng.permutation(300)], 5)  # same data, other order: same components
    np.testing.assert_allclose(shuffled.components, fit.components, atol=1e-10)
    with pytest.raises(ValueError, match="n_components = 11"):
        pca(data, 11)


def drifting_evaluation(rng, n_trials=400, n_steps=30, n_rec=12):
    """States drift along one direction at a rate equal to the coherence, plus a shared
    time course along a second direction and small noise: [B, T, n_rec]."""
    coherence = rng.choice([-0.2, -0.1, 0.1, 0.2], n_trials)
    u, v = np.linalg.qr(rng.normal(size=(n_rec, 2)))[0].T
    t = np.arange(n_steps)[None, :, None]
    states = coherence[:, None, None] * t * u + 0.05 * np.sin(t / 5) * v
    states = states + 0.01 * rng.normal(size=states.shape)
    ev = make_evaluation(coherence, states=torch.tensor(states, dtype=torch.float32), dt=10.0)
    return ev, u


def test_trajectory_pca_separates_conditions():
    ev, drift = drifting_evaluation(np.random.default_rng(7))
    result = trajectory_pca(ev, use="states", n_components=3)
    np.testing.assert_allclose(result.levels, [-0.2, -0.1, 0.1, 0.2], rtol=1e-6)
    assert result.projections.shape == (4, 30, 3)
    np.testing.assert_allclose(result.times, np.arange(30) * 10.0)
    assert result.explained_variance_ratio[0] > 0.95
    assert abs(result.components[0] @ drift) > 0.99  # PC1 is the drift direction
    final = result.projections[:, -1, 0]  # [C]: ordered by coherence, one sign or the other
    assert np.all(np.diff(final) > 0) or np.all(np.diff(final) < 0)
    assert result.project(ev.rollout.states).shape == (400, 30, 3)


def test_condition_means_and_window():
    states = torch.arange(4 * 3 * 2, dtype=torch.float32).reshape(4, 3, 2)  # [B=4, T=3, N=2]
    levels, means = condition_means(states, torch.tensor([1.0, -1.0, 1.0, -1.0]))
    np.testing.assert_array_equal(levels, [-1.0, 1.0])
    np.testing.assert_allclose(means, [states[[1, 3]].mean(0), states[[0, 2]].mean(0)])
    ev, _ = drifting_evaluation(np.random.default_rng(8))
    result = trajectory_pca(ev, use="states", window=(10, 20), n_components=2)
    _, means = condition_means(ev.rollout.states, ev.trials.conditions["coherence"])
    np.testing.assert_allclose(result.mean, means[:, 10:20].mean(axis=(0, 1)), atol=1e-12)
    assert result.window == (10, 20) and result.projections.shape == (4, 30, 2)
    with pytest.raises(ValueError, match="window"):
        trajectory_pca(ev, window=(20, 10))
    with pytest.raises(ValueError, match="use = 'inputs'"):
        trajectory_pca(ev, use="inputs")


def test_accuracy_at_one_level_matches_the_table():
    from rnnbook.analysis.accuracy import ConditionAccuracy

    acc = ConditionAccuracy(
        key="coherence",
        absolute=True,
        levels=np.array([0.0, 0.1]),
        accuracy=np.array([0.5, 0.75]),
        n_trials=np.array([2, 4]),
        sem=np.zeros(2),
        trial_levels=np.array([0, 0, 0.1, 0.1, 0.1, 0.1], dtype=np.float32),
        trial_correct=np.array([1, 0, 1, 1, 1, 0], dtype=bool),
    )
    assert acc.at(np.float32(0.1)) == 0.75
    with pytest.raises(ValueError, match="levels are"):
        acc.at(0.3)
