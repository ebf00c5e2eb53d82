"""Seed 000's run summary numbers (spec 0.6; known answers 0.9 item 6): steps to threshold, area
under the learning curve, effective non-zero weights, spectral gap, time to plateau."""

import math

import numpy as np
import pytest
import torch

import rnnbook as rb


def test_time_to_plateau_known_answers():
    assert rb.time_to_plateau([0.5, 0.7, 0.8, 0.801, 0.8015], window=2, tol=0.002) == 4
    assert rb.time_to_plateau([0.3, 0.9]) == 2 and rb.time_to_plateau([0.4]) == 1
    assert rb.time_to_plateau([]) == 0
    rising = [0.1 * k for k in range(8)]  # every 2-epoch gain is 0.2 >= tol
    assert rb.time_to_plateau(rising) == len(rising)
    assert rb.time_to_plateau([0.5, 0.5, 0.5, 0.9]) == 2
    assert rb.time_to_plateau([0.5, 0.6, 0.7, 0.71], window=1, tol=0.05) == 3


def test_steps_to_threshold_uses_the_bias_corrected_moving_average():
    assert rb.steps_to_threshold([0.9] * 5) == 1.0  # bias correction: the first EMA is a_1
    assert rb.steps_to_threshold([0.5] * 100) == math.inf
    accuracy = [0.5] * 50 + [1.0] * 200
    beta, mean, expected = 0.98, 0.0, None
    for t, a in enumerate(accuracy, start=1):
        mean = beta * mean + (1 - beta) * a
        if expected is None and mean / (1 - beta**t) >= 0.8:
            expected = t
    assert rb.steps_to_threshold(accuracy) == expected
    assert rb.steps_to_threshold(accuracy, max_steps=expected - 1) == math.inf
    assert rb.steps_to_threshold([math.nan] * 10) == math.inf
    assert rb.steps_to_threshold(np.array([0.0, 1.0]), threshold=0.5, beta=0.0) == 2.0


def test_area_under_the_learning_curve_is_the_mean_over_the_first_steps():
    accuracy = torch.tensor([0.0, 0.5, 1.0, 1.0])
    assert rb.area_under_learning_curve(accuracy) == pytest.approx(0.625)
    assert rb.area_under_learning_curve(accuracy, max_steps=2) == pytest.approx(0.25)
    assert math.isnan(rb.area_under_learning_curve([]))


def test_effective_nonzero_fraction_and_spectral_gap():
    w = torch.ones(10, 10)
    w[0, :5] = 1e-5  # below 1e-3 * median = 1e-3
    assert rb.effective_nonzero_fraction(w) == pytest.approx(95.0)
    assert rb.effective_nonzero_fraction(torch.zeros(3, 3)) == 0.0
    assert rb.spectral_gap(torch.diag(torch.tensor([3.0, -2.0, 0.5]))) == pytest.approx(1.0)
    assert rb.spectral_gap(np.array([[2.0]])) == pytest.approx(2.0)
    rank_one = torch.outer(torch.ones(4), torch.ones(4))  # singular values 4, 0, 0, 0
    assert rb.spectral_gap(rank_one) == pytest.approx(4.0)
