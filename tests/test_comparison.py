"""Comparisons over seeds: known answers of the intervals, the paired tests and corrections."""

import math

import numpy as np
import pytest

import rnnbook as rb


def test_mean_ci_covers_the_true_mean_at_its_nominal_rate():
    rng = np.random.default_rng(0)
    covered = [
        (est := rb.mean_ci(rng.normal(1.0, 2.0, size=30), n_boot=2000, seed=i)).low
        <= 1.0
        <= est.high
        for i in range(200)
    ]
    assert 0.88 <= np.mean(covered) <= 0.99  # percentile bootstrap, n = 30: close to 95 %


def test_compare_means_detects_a_large_shift_and_not_noise():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 8), rng.normal(0, 1, 8)
    same = rb.compare_means(a, b, seed=0)
    assert same.low < 0 < same.high and not same.detected and same.p_value > 0.05
    shifted = rb.compare_means(a + 5, b, seed=0)
    assert shifted.detected and shifted.p_value < 0.01
    assert shifted.diff == pytest.approx(a.mean() + 5 - b.mean())


def test_paired_comparison_removes_the_shared_seed_effect():
    rng = np.random.default_rng(2)
    seed_effect = rng.normal(0, 5, 6)  # large between-seed spread shared by both conditions
    a, b = seed_effect + 1.0 + rng.normal(0, 0.05, 6), seed_effect
    assert not rb.compare_means(a, b).detected  # unpaired: lost in the seed spread
    paired = rb.compare_means(a, b, paired=True)
    assert paired.detected and paired.low > 0.8 and paired.high < 1.2


def test_mcnemar_counts_discordant_trials_and_matches_the_binomial_test():
    a = np.array([1] * 10 + [0] * 2 + [1] * 50 + [0] * 38, bool)
    b = np.array([0] * 10 + [1] * 2 + [1] * 50 + [0] * 38, bool)
    test = rb.mcnemar(a, b)
    assert (test.n_a_only, test.n_b_only, test.n) == (10, 2, 100)
    assert test.diff == pytest.approx(0.08)
    assert test.p_value == pytest.approx(2 * sum(math.comb(12, k) for k in range(3)) / 2**12)
    assert rb.mcnemar(a, a).p_value == 1.0


def test_holm_known_values_and_order():
    assert rb.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert rb.holm([0.5]) == pytest.approx([0.5])
    assert (rb.holm(np.linspace(0.001, 0.9, 7)) <= 1).all()


def test_min_detectable_r_known_value_and_monotone_in_n():
    assert rb.min_detectable_r(20) == pytest.approx(0.59, abs=0.01)  # power 0.8, alpha 0.05
    assert rb.min_detectable_r(100) < rb.min_detectable_r(20)


def test_correlation_ci_brackets_r():
    x = np.arange(12.0)
    est = rb.correlation_ci(x, x + np.sin(x))
    assert est.low <= est.mean <= est.high <= 1
    assert est.mean == pytest.approx(np.corrcoef(x, x + np.sin(x))[0, 1])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rb.mean_ci([1.0]), "at least 2"),
        (lambda: rb.compare_means([1, 2], [1, np.nan]), "not finite"),
        (lambda: rb.compare_means([1, 2, 3], [1, 2], paired=True), "equal lengths"),
        (lambda: rb.mean_ci([1, 2], confidence=95), "confidence"),
        (lambda: rb.mcnemar([1, 2], [0, 1]), "correctness"),
        (lambda: rb.holm([0.5, 1.5]), r"\[0, 1\]"),
        (lambda: rb.min_detectable_r(3), "n >= 4"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_two_networks_against_two_never_count_as_a_detected_difference():
    tiny = rb.compare_means([1.0, 1.1], [0.0, 0.1])  # no overlap, but n = 2 + 2
    assert tiny.low > 0 and tiny.p_value > 0.3 and not tiny.detected
