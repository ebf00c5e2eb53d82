"""Mixture-model fits recover the parameters they simulated (issue 13, spec §3.6): Zhang & Luck
on 0.7 VM(kappa = 8) + 0.3 uniform; the swap model nests Zhang & Luck, fits no swaps to
swap-free data and recovers a swap rate; the Gaussian + uniform model; standard errors equal
the inverse of a finite-difference Hessian of an independently written likelihood."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from rnnbook.analysis.circular import wrap_angle
from rnnbook.analysis.mixtures import (
    GaussianUniformFit,
    SwapModelFit,
    ZhangLuckFit,
    fit_gaussian_uniform,
    fit_swap_model,
    fit_zhang_luck,
    reports_by_set_size,
)
from rnnbook.analysis.wm_bootstrap import BootstrapIntervals, bootstrap_fit

TWO_PI = 2 * math.pi


def zhang_luck_errors(n=8000, w=0.7, kappa=8.0, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    remembered = rng.random(n) < w
    return np.where(remembered, rng.vonmises(0.0, kappa, n), rng.uniform(-math.pi, math.pi, n))


def swap_trials(n, p_target, p_nontarget, kappa=8.0, m=3, seed=0):
    """(reports, targets, nontargets [n, m]) of the Bays et al. model."""
    rng = np.random.default_rng(seed)
    targets, nontargets = rng.uniform(-math.pi, math.pi, n), rng.uniform(-math.pi, math.pi, (n, m))
    kind = rng.choice(3, n, p=[p_target, p_nontarget, 1 - p_target - p_nontarget])
    swapped = nontargets[np.arange(n), rng.integers(0, m, n)]
    centre = np.where(kind == 1, swapped, targets)
    noise = rng.vonmises(0.0, kappa, n)
    reports = np.where(kind == 2, rng.uniform(-math.pi, math.pi, n), wrap_angle(centre + noise))
    return reports, targets, nontargets


def fd_hessian(log_l, theta, step=1e-5):
    """Central finite-difference Hessian [P, P] of a scalar function at theta [P]."""
    theta, p = np.asarray(theta, float), len(theta)
    h = step * np.maximum(np.abs(theta), 1e-2)
    hessian = np.zeros((p, p))
    for i in range(p):
        for j in range(p):
            ei, ej = np.eye(p)[i] * h[i], np.eye(p)[j] * h[j]
            hessian[i, j] = (
                log_l(theta + ei + ej) - log_l(theta + ei - ej)
                - log_l(theta - ei + ej) + log_l(theta - ei - ej)
            ) / (4 * h[i] * h[j])  # fmt: skip
    return hessian


def zhang_luck_log_l(errors):
    return lambda t: np.log(t[0] * stats.vonmises.pdf(errors, t[1]) + (1 - t[0]) / TWO_PI).sum()


def test_zhang_luck_recovers_w_and_kappa_from_8000_simulated_errors():
    fit = fit_zhang_luck(zhang_luck_errors())
    assert abs(fit.w - 0.7) < 0.02
    assert abs(fit.kappa - 8.0) < 0.8
    assert fit.guess_rate == pytest.approx(1 - fit.w)
    assert 0.003 < fit.w_se < 0.012 and 0.1 < fit.kappa_se < 0.4  # ~ 1 / sqrt(n) scale
    assert fit.sd == pytest.approx(0.366, abs=0.02)  # the VM component's SD at kappa ~ 8
    assert fit.n == 8000 and fit.n_params == 2


def test_zhang_luck_log_likelihood_and_covariance_match_an_independent_likelihood(tmp_path):
    errors = zhang_luck_errors(n=2000, seed=1)
    fit = fit_zhang_luck(errors)
    log_l = zhang_luck_log_l(errors)
    theta = np.array([fit.w, fit.kappa])
    assert fit.log_likelihood == pytest.approx(log_l(theta), rel=1e-10)
    for delta in ([0.01, 0], [-0.01, 0], [0, 0.2], [0, -0.2]):  # a maximum
        assert log_l(theta + delta) < fit.log_likelihood
    expected = np.linalg.inv(-fd_hessian(log_l, theta))
    assert np.allclose(fit.covariance, expected, rtol=1e-3)
    assert fit.aic == pytest.approx(4 - 2 * fit.log_likelihood)
    assert fit.bic == pytest.approx(2 * math.log(2000) - 2 * fit.log_likelihood)
    again = ZhangLuckFit.load(fit.save(tmp_path / "fit.pt"))
    assert again.kappa == fit.kappa and np.array_equal(again.covariance, fit.covariance)


def test_the_swap_model_without_nontargets_is_zhang_luck():
    errors = zhang_luck_errors(n=3000, seed=2)
    targets = np.random.default_rng(3).uniform(-math.pi, math.pi, 3000)
    reports = wrap_angle(targets - errors)
    swap = fit_swap_model(reports, targets, np.zeros((3000, 0)))
    zl = fit_zhang_luck(errors)
    assert swap.p_nontarget == 0.0 and swap.p_nontarget_se == 0.0 and swap.n_params == 2
    assert swap.p_target == pytest.approx(zl.w, abs=1e-5)
    assert swap.kappa == pytest.approx(zl.kappa, rel=1e-4)
    assert swap.log_likelihood == pytest.approx(zl.log_likelihood, rel=1e-10)
    assert swap.p_uniform_se == pytest.approx(zl.w_se, rel=1e-3)
    assert swap.aic == pytest.approx(zl.aic)


def test_the_swap_model_fits_no_swaps_to_swap_free_data():
    reports, targets, nontargets = swap_trials(4000, p_target=0.7, p_nontarget=0.0, seed=4)
    fit = fit_swap_model(reports, targets, nontargets)
    assert fit.p_nontarget < 0.03 and fit.p_nontarget < 3 * fit.p_nontarget_se  # ~0: within noise
    zl = fit_zhang_luck(wrap_angle(targets - reports))
    assert 2 * (fit.log_likelihood - zl.log_likelihood) < 3.84  # no significant gain from swaps
    assert abs(fit.p_target - 0.7) < 0.03 and abs(fit.kappa - 8) < 0.8
    assert fit.p_target + fit.p_nontarget + fit.p_uniform == pytest.approx(1.0)


def test_the_swap_model_recovers_a_simulated_swap_rate():
    reports, targets, nontargets = swap_trials(4000, p_target=0.6, p_nontarget=0.25, seed=5)
    fit = fit_swap_model(reports, targets, nontargets)
    assert abs(fit.p_nontarget - 0.25) < 0.03
    assert abs(fit.p_target - 0.6) < 0.03 and abs(fit.p_uniform - 0.15) < 0.03
    assert abs(fit.kappa - 8) < 0.8
    assert fit.n_nontargets == 3 and fit.n_params == 3
    assert "p_nontarget" in fit.summary()
    # Zhang & Luck cannot tell swaps from guesses: it calls them guesses
    zl = fit_zhang_luck(wrap_angle(targets - reports))
    assert zl.guess_rate > 0.35


def test_the_swap_model_finds_mostly_swaps_past_the_local_optima_of_some_starts():
    # here the first starts of the grid (kappa = 1) climb to p_target = 0, kappa ~ 1.6
    reports, targets, nontargets = swap_trials(2000, p_target=0.2, p_nontarget=0.7, m=1, seed=1)
    fit = fit_swap_model(reports, targets, nontargets)
    assert abs(fit.p_nontarget - 0.7) < 0.03 and abs(fit.p_target - 0.2) < 0.03
    assert abs(fit.kappa - 8) < 0.8


def test_swap_model_covariance_matches_an_independent_likelihood(tmp_path):
    reports, targets, nontargets = swap_trials(1500, p_target=0.6, p_nontarget=0.2, seed=6)
    fit = fit_swap_model(reports, targets, nontargets)

    def log_l(t):  # t = (kappa, p_target, p_nontarget)
        vm = stats.vonmises.pdf
        swaps = vm(reports[:, None] - nontargets, t[0]).mean(axis=1)
        p = t[1] * vm(reports - targets, t[0]) + t[2] * swaps + (1 - t[1] - t[2]) / TWO_PI
        return np.log(p).sum()

    theta = np.array([fit.kappa, fit.p_target, fit.p_nontarget])
    assert fit.log_likelihood == pytest.approx(log_l(theta), rel=1e-10)
    expected = np.linalg.inv(-fd_hessian(log_l, theta))
    assert np.allclose(fit.covariance, expected, rtol=1e-3)
    grid = [(k, pt, pn) for k in np.geomspace(1, 50, 8) for pt in np.linspace(0.05, 0.9, 8)
            for pn in np.linspace(0.0, 0.9 - pt, 5)]  # fmt: skip
    assert fit.log_likelihood >= max(log_l(np.array(t)) for t in grid)  # the global maximum
    g = np.array([0, -1, -1])  # d p_uniform / d theta
    assert fit.p_uniform_se == pytest.approx(math.sqrt(g @ expected @ g), rel=1e-3)
    again = SwapModelFit.load(fit.save(tmp_path / "swap.pt"))
    assert again.parameters() == fit.parameters()


def test_reports_by_set_size_pairs_each_item_with_the_other_items_of_its_trial():
    angles = np.array([[0.1, 0.2, 0.3], [1.0, np.nan, 3.0], [5.0, np.nan, np.nan]])
    decoded = angles + 0.01
    presence = np.array([[1, 1, 1], [1, 0, 1], [1, 0, 0]])
    data = reports_by_set_size(angles, decoded, presence)
    assert sorted(data) == [1, 2, 3]
    reports, targets, nontargets = data[3]
    assert np.allclose(targets, [0.1, 0.2, 0.3]) and np.allclose(reports, targets + 0.01)
    assert np.allclose(nontargets, [[0.2, 0.3], [0.1, 0.3], [0.1, 0.2]])
    assert np.allclose(data[2][2], [[3.0], [1.0]]) and data[1][2].shape == (1, 0)
    assert fit_swap_model(*data[3]).n_nontargets == 2


def test_gaussian_uniform_recovers_w_and_sigma_with_the_normal_wrapped():
    rng = np.random.default_rng(7)
    n, sigma = 4000, 0.9  # wide: a normal not wrapped would lose mass beyond +-pi
    remembered = rng.random(n) < 0.8
    errors = np.where(
        remembered, wrap_angle(rng.normal(0, sigma, n)), rng.uniform(-math.pi, math.pi, n)
    )
    fit = fit_gaussian_uniform(wrap_angle(errors))
    assert abs(fit.w - 0.8) < 0.03 and abs(fit.sigma - sigma) < 0.05 * sigma

    def log_l(t):  # the wrapped normal by an explicit sum over 21 wraps
        shifts = wrap_angle(errors)[:, None] + TWO_PI * np.arange(-10, 11)
        wn = stats.norm.pdf(shifts, scale=t[1]).sum(axis=1)
        return np.log(t[0] * wn + (1 - t[0]) / TWO_PI).sum()

    theta = np.array([fit.w, fit.sigma])
    assert fit.log_likelihood == pytest.approx(log_l(theta), rel=1e-10)
    assert np.allclose(fit.covariance, np.linalg.inv(-fd_hessian(log_l, theta)), rtol=1e-3)
    assert isinstance(fit, GaussianUniformFit) and fit.parameters()["sigma"] == fit.sigma


def test_bootstrap_intervals_are_reproducible_and_agree_with_the_hessian():
    errors = zhang_luck_errors(n=400, seed=8)

    def boot(seed, n_resamples=30):
        generator = torch.Generator().manual_seed(seed)
        return bootstrap_fit(fit_zhang_luck, errors, n_resamples=n_resamples, generator=generator)

    first, again, other = boot(0), boot(0), boot(1, n_resamples=3)
    assert np.array_equal(first.samples, again.samples)
    assert not np.array_equal(first.samples[:3], other.samples)
    assert first.names == ("w", "kappa", "sd") and first.samples.shape == (30, 3)
    fit = fit_zhang_luck(errors)
    assert first.estimates[0] == fit.w
    low, high = first.interval("w")
    assert low < fit.w < high
    assert 0.5 < first.se[0] / fit.w_se < 1.7 and 0.5 < first.se[2] / fit.sd_se < 1.7
    assert isinstance(first, BootstrapIntervals)


def test_bootstrap_resamples_the_trials_of_every_array_together():
    reports, targets, nontargets = swap_trials(300, p_target=0.6, p_nontarget=0.2, seed=9)
    boot = bootstrap_fit(
        fit_swap_model,
        reports,
        targets,
        nontargets,
        n_resamples=5,
        generator=torch.Generator().manual_seed(0),
    )
    assert boot.names == ("kappa", "p_target", "p_nontarget", "p_uniform")
    assert np.allclose(boot.samples[:, 1:].sum(axis=1), 1.0)
    assert np.all(boot.samples[:, 2] > 0.05)  # resampled as trials, the swaps survive


@pytest.mark.parametrize(
    "call, fragments",
    [
        (lambda: fit_zhang_luck([0.1, np.nan]), ["errors[1] = nan", "finite"]),
        (lambda: fit_zhang_luck(np.zeros((3, 2))), ["errors", "(3, 2)", "[n]"]),
        (lambda: fit_gaussian_uniform([]), ["errors", "empty"]),
        (lambda: fit_swap_model([0.1, 0.2], [0.1], np.zeros((2, 1))), ["(2,), (1,), (2, 1)"]),
        (lambda: fit_swap_model([0.1], [0.1], np.zeros(1)), ["nontargets", "[n, m]"]),
        (lambda: reports_by_set_size([[np.nan]], [[0.0]], [[1]]), ["angles[0] = nan"]),
        (lambda: reports_by_set_size([[0.0]], [[0.0]], [[3]]), ["presence", "0/1"]),
        (lambda: bootstrap_fit(fit_zhang_luck, [0.1, 0.2], n_resamples=1,
                               generator=torch.Generator()), ["n_resamples = 1", ">= 2"]),
        (lambda: bootstrap_fit(fit_zhang_luck, [0.1, 0.2], level=1.5,
                               generator=torch.Generator()), ["level = 1.5", "(0, 1)"]),
        (lambda: bootstrap_fit(fit_zhang_luck, [0.1, 0.2], generator=0), ["generator = 0"]),
        (lambda: bootstrap_fit(fit_swap_model, [0.1], [0.1, 0.2], np.zeros((2, 0)),
                               generator=torch.Generator()), ["data have shapes"]),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_argument_and_value(call, fragments):
    with pytest.raises(ValueError) as error:
        call()
    for fragment in fragments:
        assert fragment in str(error.value), (fragment, str(error.value))
