"""Neural analyses of a working-memory network against known answers (issue 13, spec §3.5-3.6):
the readout SNR of Gaussian noise, the divisive-normalisation weights of a linear network
(w1 = w2 = 1) and of a saturating one (< 1), vector strengths and the IPR bounds 1/M and 1."""

import math

import numpy as np
import pytest
import torch
from scipy import special

from rnnbook.analysis.selectivity import (
    DivisiveNormalisation,
    MixedSelectivity,
    ReadoutSNR,
    divisive_normalisation,
    inverse_participation_ratio,
    mixed_selectivity,
    readout_snr,
)
from rnnbook.models import ModelConfig, RateRNN

M = 4  # item slots


def test_snr_of_a_two_repetition_readout_by_hand():
    readout = np.array([[[1.0, 0.0]], [[3.0, 0.0]]])  # [R = 2, T = 1, 2]
    snr = readout_snr([readout], [1])
    # s = (2, 0); noise +-1 on x: variance (1 + 1) / (2 - 1) = 2, so SNR = 4 / 2
    assert np.allclose(snr.signal, [[2.0, 0.0]])
    assert snr.snr[0] == pytest.approx(2.0) and snr.snr_db[0] == pytest.approx(10 * math.log10(2))


def test_snr_of_white_noise_grows_with_the_steps_averaged_and_not_for_frozen_noise():
    rng = np.random.default_rng(0)
    signal, reps, steps = np.array([3.0, 4.0]), 400, 50  # |s|^2 = 25; noise variance 1 + 1
    white = signal + rng.normal(size=(reps, steps, 2))
    frozen = signal + np.repeat(rng.normal(size=(reps, 1, 2)), steps, axis=1)
    snr = readout_snr(np.stack([white, frozen]), [1, 2])
    assert snr.snr == pytest.approx([12.5, 12.5], rel=0.05)
    assert snr.snr_time_averaged[0] == pytest.approx(12.5 * steps, rel=0.2)  # noise / T
    assert snr.snr_time_averaged[1] == pytest.approx(snr.snr[1], rel=0.01)  # nothing averages
    assert snr.n_repetitions.tolist() == [reps, reps] and snr.n_steps.tolist() == [steps, steps]


def test_snr_falls_as_the_noise_grows_and_survives_save_and_load(tmp_path):
    rng = np.random.default_rng(1)
    readouts = [np.array([1.0, 0.0]) + s * rng.normal(size=(200, 10, 2)) for s in (0.1, 0.3, 1.0)]
    snr = readout_snr([torch.as_tensor(d) for d in readouts], [1, 2, 4])
    assert np.all(np.diff(snr.snr) < 0) and np.all(np.diff(snr.snr_time_averaged_db) < 0)
    assert snr.snr[0] == pytest.approx(1 / (2 * 0.1**2), rel=0.1)
    assert "set size 4" in snr.summary()
    again = ReadoutSNR.load(snr.save(tmp_path / "snr.pt"))
    assert np.array_equal(again.noise_covariance, snr.noise_covariance)


def positive_code(theta: torch.Tensor) -> torch.Tensor:
    """Seed 003's positive 3-value input code of angles [B] -> [B, 3]."""
    c, s = torch.cos(theta), torch.sin(theta)
    r2, r6 = math.sqrt(2), math.sqrt(6)
    return torch.stack([1 + c / r2 + s / r6, 1 - c / r2 + s / r6, 1 - 2 * s / r6], dim=-1)


def slot_rates(model, theta1, theta2, steps=30):
    """Mean rates over the last 10 of ``steps`` with item 1 only, item 2 only, and both."""
    u1 = torch.cat([positive_code(theta1), torch.zeros(len(theta1), 3)], dim=1)
    u2 = torch.cat([torch.zeros(len(theta2), 3), positive_code(theta2)], dim=1)

    def rates(u):
        inputs = u[:, None, :].expand(-1, steps, -1).clone()  # [B, T, 6]
        inputs[:, steps // 2 :] = 0  # stimulus, then a delay
        with torch.no_grad():
            return model(inputs).rates[:, -10:].mean(dim=1).double()

    return rates(u1), rates(u2), rates(u1 + u2)


def test_divisive_normalisation_of_a_linear_network_is_superposition(tmp_path):
    config = ModelConfig(
        n_in=6, n_out=2, n_rec=40, dt=10.0, tau=100.0, activation="linear", bias=False,
        spectral_radius=0.8,
    )  # fmt: skip
    model = RateRNN(config, seed=0)
    theta = torch.linspace(-3, 3, 12)
    dn = divisive_normalisation(*slot_rates(model, theta, theta.flip(0)))
    assert np.allclose(dn.w1, 1.0, atol=1e-4) and np.allclose(dn.w2, 1.0, atol=1e-4)
    assert np.allclose(dn.r_squared, 1.0, atol=1e-6) and dn.n_units == 40
    assert DivisiveNormalisation.load(dn.save(tmp_path / "dn.pt")).w1.shape == (12,)


def test_divisive_normalisation_of_a_population_driven_near_saturation_is_sublinear():
    rng = np.random.default_rng(2)
    weights = rng.uniform(0, 25, size=(60, 6))  # slot 1: inputs 0-2, slot 2: 3-5; half-max 30

    def phi(x):  # seed 003's rate function, saturating at 60 Hz
        return 30.0 * (1 + np.tanh(0.14 * x - 4.2))

    code1 = positive_code(torch.linspace(-3, 3, 8)).numpy()
    code2 = positive_code(torch.linspace(-2, 2.5, 8)).numpy()
    u1 = np.hstack([code1, np.zeros_like(code1)])  # [8, 6]
    u2 = np.hstack([np.zeros_like(code2), code2])
    drive1, drive2 = u1 @ weights.T, u2 @ weights.T  # [8, 60] per-item drives up to ~75
    dn = divisive_normalisation(phi(drive1), phi(drive2), phi(drive1 + drive2))
    assert np.all(dn.w1 < 0.9) and np.all(dn.w2 < 0.9) and np.all(dn.w1 + dn.w2 > 1)
    assert dn.fraction_in_region == 1.0 and "in [0, 1]^2" in dn.summary()
    linear = divisive_normalisation(drive1, drive2, drive1 + drive2)  # the same units, linear
    assert np.allclose(linear.w1, 1.0) and np.allclose(linear.w2, 1.0)


def test_divisive_normalisation_recovers_known_weights():
    rng = np.random.default_rng(3)
    r1, r2 = rng.random((5, 30)), rng.random((5, 30))
    w = np.array([[0.2, 0.7], [0.95, 0.99], [-0.5, 2.0], [0.01, 0.3], [1.5, 0.1]])
    dn = divisive_normalisation(r1, r2, w[:, :1] * r1 + w[:, 1:] * r2)
    assert np.allclose(dn.w1, w[:, 0]) and np.allclose(dn.w2, w[:, 1])
    assert dn.in_region.tolist() == [True, True, False, True, False]
    assert np.allclose(dn.r_squared, 1.0)
    noisy = divisive_normalisation(r1, r2, r1 + r2 + 0.1 * rng.standard_normal((5, 30)))
    assert np.all((noisy.r_squared > 0.9) & (noisy.r_squared < 1))


def grid_trials(k=8):
    """Set-size-1 trials: every slot at k evenly spaced angles. angles, presence: [k M, M]."""
    grid = np.linspace(-math.pi, math.pi, k, endpoint=False) + 0.1
    presence = np.repeat(np.eye(M), k, axis=0)  # slot of each trial
    angles = np.where(presence > 0, np.tile(grid, M)[:, None], np.nan)
    return angles, presence


def test_ipr_is_one_over_m_for_a_one_slot_unit_and_one_for_equal_tuning(tmp_path):
    angles, presence = grid_trials()
    theta = np.nansum(angles, axis=1)  # the angle of the item shown
    slot = presence.argmax(axis=1)
    tuned = 1 + 0.5 * np.cos(theta - 0.3)  # vector strength 0.5 / 2 to the tuned slot(s)
    rates = np.stack(
        [
            np.where(slot == 0, tuned, 1.0),  # one slot
            tuned,  # every slot equally
            np.where(slot < 2, tuned, 1.0),  # two slots
            np.zeros(len(slot)),  # silent
        ],
        axis=1,
    )
    result = mixed_selectivity(rates, angles, presence)
    assert np.allclose(result.strength[0], [0.25, 0, 0, 0], atol=1e-12)
    assert np.allclose(result.strength[1], 0.25) and np.allclose(result.strength[3], 0.0)
    assert result.ipr[:3] == pytest.approx([1 / M, 1.0, 2 / M], abs=1e-12)
    assert math.isnan(result.ipr[3])
    assert result.n_trials.tolist() == [8] * M
    assert MixedSelectivity.load(result.save(tmp_path / "ms.pt")).strength.shape == (4, M)


def test_inverse_participation_ratio_bounds():
    for m in (2, 5, 10):
        assert inverse_participation_ratio(np.eye(m)[0]) == pytest.approx(1 / m)
        assert inverse_participation_ratio(np.full(m, 0.3)) == pytest.approx(1.0)
    values = inverse_participation_ratio(np.random.default_rng(4).random((100, 10)))
    assert np.all((values >= 0.1) & (values <= 1.0))


def test_vector_strength_of_von_mises_tuning_is_the_bessel_ratio():
    rng = np.random.default_rng(5)
    n, kappa = 40_000, 1.5
    theta = rng.uniform(-math.pi, math.pi, (n, 1))
    rates = np.exp(kappa * np.cos(theta - 1.0))  # [n, 1 unit]
    result = mixed_selectivity(rates, theta, np.ones((n, 1)))
    expected = special.i1(kappa) / special.i0(kappa)  # |E[r e^{i theta}]| / E[r]
    assert result.strength[0, 0] == pytest.approx(expected, abs=0.01)
    assert result.ipr[0] == pytest.approx(1.0)  # one slot: 1/M = 1


@pytest.mark.parametrize(
    "call, fragments",
    [
        (lambda: readout_snr([np.zeros((1, 5, 2))], [1]), ["readouts[0]", "(1, 5, 2)", "R >= 2"]),
        (lambda: readout_snr([np.zeros((3, 5, 2))], [1, 2]), ["one per set size"]),
        (lambda: readout_snr([np.zeros((3, 5, 2))], [1.5]), ["set_sizes holds 1.5"]),
        (lambda: readout_snr([np.full((3, 5, 2), np.nan)], [1]), ["readouts[0][0, 0, 0] = nan"]),
        (lambda: divisive_normalisation(np.ones((2, 5)), np.ones((2, 5)), np.ones((2, 4))),
         ["(2, 5), (2, 5), (2, 4)", "[B, N >= 2]"]),
        (lambda: divisive_normalisation(np.ones((2, 5)), 2 * np.ones((2, 5)), np.ones((2, 5))),
         ["r1[0] and r2[0] are collinear"]),
        (lambda: mixed_selectivity(-np.ones((2, 3)), np.zeros((2, 1)), np.ones((2, 1))),
         ["rates holds -1.0", ">= 0"]),
        (lambda: mixed_selectivity(np.ones((2, 3)), np.zeros((2, 2)), [[1, 0], [1, 0]]),
         ["presence[:, 1] is all 0"]),
        (lambda: mixed_selectivity(np.ones((2, 3)), np.zeros((3, 2)), np.ones((2, 2))),
         ["angles", "(3, 2)", "[B = 2, M >= 1]"]),
        (lambda: mixed_selectivity(np.ones((1, 3)), [[np.nan]], [[1]]), ["angles", "nan"]),
        (lambda: inverse_participation_ratio([-0.1, 0.2]), ["strength", ">= 0"]),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_argument_and_value(call, fragments):
    with pytest.raises(ValueError) as error:
        call()
    for fragment in fragments:
        assert fragment in str(error.value), (fragment, str(error.value))
