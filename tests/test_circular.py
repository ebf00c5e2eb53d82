"""Circular statistics of angle errors against closed-form answers (seed 003, spec §3.5-3.6):
the circular variance of a von Mises is -2 ln(I_1/I_0) and of a wrapped normal sigma^2, the
kurtosis of a wrapped normal is 0, uniform guesses have mean |error| pi / 2."""

import math

import numpy as np
import pytest
import torch
from scipy import special

from rnnbook.analysis.circular import (
    SetSizeErrors,
    angle_errors,
    circular_kurtosis,
    circular_sd,
    circular_variance,
    decode_angle,
    errors_by_set_size,
    present_item_errors,
    slot_angles,
    von_mises_circular_variance,
    von_mises_sd,
    wrap_angle,
)

N = 20_000


def von_mises(kappa: float, n: int = N, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).vonmises(0.0, kappa, n)


def test_wrap_angle_maps_onto_minus_pi_excluded_to_pi_included():
    a = np.array([0.0, math.pi, -math.pi, 3 * math.pi, -3 * math.pi, 2 * math.pi, 7.0, -7.0])
    wrapped = wrap_angle(a)
    assert np.allclose(
        wrapped, [0, math.pi, math.pi, math.pi, math.pi, 0, 7 - 2 * math.pi, 2 * math.pi - 7]
    )
    many = np.random.default_rng(0).uniform(-50, 50, 1000)
    w = wrap_angle(many)
    assert np.all((w > -math.pi) & (w <= math.pi))
    assert np.allclose(np.exp(1j * w), np.exp(1j * many))  # the same angle


def test_angle_errors_are_target_minus_report_wrapped():
    assert angle_errors([3.0], [-3.0])[0] == pytest.approx(6.0 - 2 * math.pi)
    assert angle_errors(torch.tensor([0.1]), torch.tensor([0.3]))[0] == pytest.approx(-0.2)


def test_decode_angle_is_atan2_of_sin_over_cos():
    theta = np.linspace(-3, 3, 7)
    readout = 2.5 * np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    assert np.allclose(decode_angle(readout), theta)


def test_slot_angles_average_the_pairs_over_time_before_atan2():
    # slot 0 reads pi - 0.1 and -pi + 0.1 on two steps: the mean vector points at pi (the mean
    # of the two angles would be 0); slot 1 (channels 2, 3) reads 0.5 at two amplitudes.
    a, b = math.pi - 0.1, -math.pi + 0.1
    outputs = np.array(
        [[[math.cos(a), math.sin(a), math.cos(0.5), math.sin(0.5)],
          [math.cos(b), math.sin(b), 3 * math.cos(0.5), 3 * math.sin(0.5)]]]
    )  # fmt: skip
    decoded = slot_angles(outputs)  # [1, 2]
    assert decoded.shape == (1, 2)
    assert abs(wrap_angle(decoded[0, 0] - math.pi)) < 1e-12
    assert decoded[0, 1] == pytest.approx(0.5)


def test_slot_angles_can_normalise_each_step_first():
    # 0 at amplitude 3 and pi / 2 at amplitude 1: the plain mean leans to 0, the unit mean
    # sits half-way, at pi / 4
    outputs = np.array([[[3.0, 0.0], [0.0, 1.0]]])  # [1, T = 2, 2]
    assert slot_angles(outputs)[0, 0] == pytest.approx(math.atan2(1, 3))
    assert slot_angles(outputs, normalise=True)[0, 0] == pytest.approx(math.pi / 4)


def test_present_item_errors_pool_the_items_shown_with_their_set_size():
    angles = np.array([[0.1, 0.2, np.nan], [1.0, 2.0, 3.0]])
    decoded = np.array([[0.0, 9.0, 9.0], [1.5, 2.0, 2.5]])
    presence = np.array([[1, 0, 0], [1, 1, 1]])
    errors, sizes = present_item_errors(angles, decoded, presence)
    assert np.allclose(errors, [0.1, -0.5, 0.0, 0.5])
    assert sizes.tolist() == [1, 3, 3, 3]


@pytest.mark.parametrize("kappa, expected", [(5.0, 0.225), (20.0, 0.051)])
def test_circular_variance_of_a_von_mises_is_minus_2_ln_of_the_bessel_ratio(kappa, expected):
    formula = -2 * math.log(special.iv(1, kappa) / special.iv(0, kappa))
    assert von_mises_circular_variance(kappa) == pytest.approx(formula, rel=1e-10)
    assert formula == pytest.approx(expected, abs=5e-4)  # the spec's numbers
    assert circular_variance(von_mises(kappa)) == pytest.approx(formula, rel=0.03)


def test_von_mises_sd_at_kappa_8_is_the_specs_0366():
    assert von_mises_sd(8.0) == pytest.approx(0.366, abs=5e-4)
    assert von_mises_sd(8.0) ** 2 == pytest.approx(0.134, abs=5e-4)


def test_circular_variance_of_a_wrapped_normal_is_sigma_squared_and_its_kurtosis_0():
    sigma = 1.6  # wide enough that wrapping matters: the linear variance is far from 2.56
    e = wrap_angle(np.random.default_rng(1).normal(0.0, sigma, N))
    assert circular_variance(e) == pytest.approx(sigma**2, rel=0.03)
    assert circular_sd(e) == pytest.approx(sigma, rel=0.02)
    assert np.var(e) < 0.9 * sigma**2
    assert circular_kurtosis(e) == pytest.approx(0.0, abs=0.05)


def test_circular_kurtosis_of_a_von_mises_matches_its_bessel_moments():
    kappa = 2.0
    a1, a2 = (special.iv(p, kappa) / special.iv(0, kappa) for p in (1, 2))
    expected = (a2 - a1**4) / (1 - a1) ** 2  # 0.713; m_2 = A_2, m_1 = A_1, both real
    assert circular_kurtosis(von_mises(kappa, 50_000)) == pytest.approx(expected, abs=0.07)


def test_kurtosis_and_variance_of_two_symmetric_errors_by_hand():
    a = 0.4  # errors +-a: m_1 = cos a, m_2 = cos 2a
    e = np.array([-a, a])
    assert circular_variance(e) == pytest.approx(-2 * math.log(math.cos(a)))
    expected = (math.cos(2 * a) - math.cos(a) ** 4) / (1 - math.cos(a)) ** 2
    assert circular_kurtosis(e) == pytest.approx(expected)


def test_rotating_every_error_changes_neither_variance_nor_kurtosis():
    e = np.concatenate([von_mises(4.0, 2000), np.random.default_rng(2).uniform(-3, 3, 500)])
    for statistic in (circular_variance, circular_kurtosis, circular_sd):
        assert statistic(wrap_angle(e + 1.3)) == pytest.approx(statistic(e), rel=1e-9)


def test_uniform_guesses_have_mean_abs_error_pi_over_2_and_no_resultant():
    e = np.random.default_rng(3).uniform(-math.pi, math.pi, N)
    stats = errors_by_set_size(e, np.full(N, 8))
    assert stats.mean_abs_error[0] == pytest.approx(math.pi / 2, abs=0.03)
    assert math.exp(-stats.circular_variance[0] / 2) < 0.03  # |m_1| ~ 1 / sqrt(N)


def test_circular_sd_clamps_the_resultant_like_the_original():
    assert circular_sd(np.zeros(5)) == pytest.approx(math.sqrt(-2 * math.log(0.999999)))
    assert circular_variance(np.zeros(5)) == 0.0


def test_errors_by_set_size_groups_and_summarises_each_set_size(tmp_path):
    e1, e4 = von_mises(20.0, 3000, seed=4), von_mises(2.0, 2000, seed=5)
    stats = errors_by_set_size(np.concatenate([e4, e1]), np.r_[np.full(2000, 4), np.ones(3000)])
    assert stats.set_sizes.tolist() == [1, 4] and stats.n.tolist() == [3000, 2000]
    assert stats.circular_variance[0] == pytest.approx(circular_variance(e1))
    assert stats.circular_kurtosis[1] == pytest.approx(circular_kurtosis(e4))
    assert stats.linear_sd[0] == pytest.approx(np.std(e1))
    assert stats.mean_abs_error[0] < stats.mean_abs_error[1]
    assert np.array_equal(stats.errors[1], e4)
    assert "set size 4" in stats.summary()
    again = SetSizeErrors.load(stats.save(tmp_path / "errors.pt"))
    assert np.array_equal(again.circular_sd, stats.circular_sd)


@pytest.mark.parametrize(
    "call, fragments",
    [
        (lambda: circular_variance(np.zeros((2, 3))), ["errors", "(2, 3)", "[n]"]),
        (lambda: circular_kurtosis(np.array([])), ["errors", "empty", "[n]"]),
        (lambda: circular_sd([0.1, 0.2, np.nan]), ["errors[2] = nan", "finite"]),
        (lambda: wrap_angle([np.inf]), ["angle[0] = inf", "finite"]),
        (lambda: errors_by_set_size([0.1, 0.2], [1, 2.5]), ["set_sizes", "2.5", "integers >= 1"]),
        (lambda: errors_by_set_size([0.1, 0.2], [1]), ["set_sizes", "(1,)", "shape of errors"]),
        (lambda: decode_angle(np.zeros((4, 3))), ["readout", "(4, 3)", "[..., 2]"]),
        (lambda: slot_angles(np.zeros((2, 5, 3))), ["outputs", "(2, 5, 3)", "2M"]),
        (lambda: angle_errors([0.0, 1.0], [0.0]), ["reports", "(1,)", "shape of targets"]),
        (lambda: present_item_errors(np.zeros((1, 2)), np.zeros((1, 2)), [[2, 0]]),
         ["presence", "0/1"]),
        (lambda: present_item_errors([[np.nan]], [[0.0]], [[1]]), ["angles[0] = nan"]),
        (lambda: von_mises_sd(-1.0), ["kappa = -1.0", "kappa >= 0"]),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_argument_and_value(call, fragments):
    with pytest.raises(ValueError) as error:
        call()
    for fragment in fragments:
        assert fragment in str(error.value), (fragment, str(error.value))
