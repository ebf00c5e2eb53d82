"""Seed 003's model parts against known answers (``seed003.md`` §3.2, §3.3, §3.6): the moments
of the four spike-count noise models, gradients through them, the autograd scan that carries
them, the saturating rate function, Dale's E fraction 0.5 and the sorted log-uniform taus."""

import dataclasses

import pytest
import torch

from rnnbook.models import Lesion, ModelConfig, RateRNN
from rnnbook.models.rates import Saturating
from rnnbook.models.scan import leaky_scan
from rnnbook.models.spike_noise import (
    csnr_rates,
    gamma_rates,
    gauss_rates,
    noisy_scan,
    puregauss_rates,
)
from rnnbook.models.time_constants import LogUniformTau

N = 400_000  # draws per moment: relative standard errors of about 0.2 % (mean), 0.5 % (var)
K, DT = 0.05, 10.0


def draws(draw, rate, k=K, dt=DT, seed=0):
    r = torch.full((N,), rate, dtype=torch.float64)
    return draw(r, k, dt, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("rate", [0.5, 5.0, 30.0])
@pytest.mark.parametrize("k, dt", [(0.05, 10.0), (0.2, 20.0)])
def test_gamma_noise_has_mean_r_and_variance_r_k2_1000_over_dt(rate, k, dt):
    x = draws(gamma_rates, rate, k, dt)
    variance = rate * k**2 * 1000 / dt  # r / lambda, lambda = (dt / 1000) / k^2
    assert abs(float(x.mean()) - rate) < 4 * (variance / N) ** 0.5
    assert float(x.var()) == pytest.approx(variance, rel=0.03)
    assert float(x.min()) >= 0


def test_gamma_noise_known_numbers_of_the_spec():
    x = draws(gamma_rates, 8.0)  # k = 0.05, dt = 10: lambda = 4, var = r / 4 = 2
    assert float(x.var()) == pytest.approx(2.0, rel=0.03)


@pytest.mark.parametrize("rate", [1.0, 30.0])
def test_csnr_noise_has_mean_r_and_constant_cv(rate):
    x = draws(csnr_rates, rate)  # kappa = (5 * 10 / 1000) / 0.05^2 = 20
    assert abs(float(x.mean()) - rate) < 4 * rate * (1 / 20 / N) ** 0.5
    assert float(x.std() / x.mean()) == pytest.approx(1 / 20**0.5, rel=0.02)  # 0.224


def test_gauss_noise_has_about_the_gamma_variance_away_from_zero():
    x = draws(gauss_rates, 30.0)  # SD 0.05 sqrt(3000) = 2.74: the ReLU cuts nothing
    assert abs(float(x.mean()) - 30.0) < 4 * (7.5 / N) ** 0.5
    assert float(x.var()) == pytest.approx(30.0 * K**2 * 1000 / DT, rel=0.03)


def test_gauss_and_puregauss_are_rectified():
    assert float(draws(gauss_rates, 0.0).min()) == 0.0
    x = draws(puregauss_rates, 0.0)
    assert float(x.min()) == 0.0 and 0.4 < float((x > 0).double().mean()) < 0.6


def test_puregauss_noise_has_sd_15k_hz():
    x = draws(puregauss_rates, 30.0)
    assert abs(float(x.mean()) - 30.0) < 4 * 0.75 / N**0.5
    assert float(x.std()) == pytest.approx(15 * K, rel=0.02)  # 0.75 Hz at k = 0.05


@pytest.mark.parametrize("draw", [gamma_rates, csnr_rates, gauss_rates, puregauss_rates])
def test_gradients_flow_through_the_draws_and_are_one_on_average(draw):
    """d r~ / d r of a reparameterised draw has mean dE[r~]/dr = 1 (all four, where the ReLU
    cuts nothing)."""
    r = torch.full((N,), 20.0, dtype=torch.float64, requires_grad=True)
    draw(r, K, DT, torch.Generator().manual_seed(1)).sum().backward()
    assert torch.isfinite(r.grad).all()
    assert float(r.grad.mean()) == pytest.approx(1.0, abs=0.02)


def test_the_same_generator_draws_the_same_noise():
    one, two = draws(gamma_rates, 5.0, seed=4), draws(gamma_rates, 5.0, seed=4)
    assert torch.equal(one, two) and not torch.equal(one, draws(gamma_rates, 5.0, seed=5))


class Identity:
    """A noise model that sends the rates as they are: noisy_scan must equal the scans."""

    def rates(self, r, generator):
        return r


def seed003_config(**changes) -> ModelConfig:
    base = ModelConfig(
        n_in=6,
        n_out=4,
        dt=10.0,
        n_rec=12,
        tau=(50.0, 300.0),
        sort_taus=True,
        recurrence="dale",
        e_frac=0.5,
        activation="saturating",
        input_weights="nonnegative",
        noise="spike_gamma",
        spike_noise_factor=0.05,
    )
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize("gate", ["none", "multiplicative"])
def test_the_autograd_scan_without_noise_equals_the_hand_written_one(gate):
    model = RateRNN(seed003_config(gate=gate, activation="softplus"), seed=0)
    drive = torch.randn(15, 3, 12, generator=torch.Generator().manual_seed(0))
    inputs = torch.randn(3, 15, 6, generator=torch.Generator().manual_seed(1))
    x0 = torch.randn(3, 12, generator=torch.Generator().manual_seed(2))
    results = []
    for scan in ("hand", "autograd"):
        model.zero_grad()
        w_t = model.recurrence.effective_weight().T
        args = (drive, inputs, x0, w_t, model.alpha, model.activation)
        if scan == "hand":
            states, rates = model.gate.integrate(*args, None, None)
        else:
            states, rates = noisy_scan(Identity(), model.gate, *args, None, None, None)
        ((states**2).sum() + rates.sum()).backward()
        results.append((states.detach(), rates.detach(), model.recurrence.weight_raw.grad.clone()))
    for hand, auto in zip(*results, strict=True):
        torch.testing.assert_close(auto, hand, rtol=1e-4, atol=1e-5)


def test_leaky_scan_and_noisy_scan_agree_under_a_lesion():
    model = RateRNN(seed003_config(activation="relu"), seed=0)
    drive = torch.rand(10, 2, 12, generator=torch.Generator().manual_seed(0))
    keep, value = torch.ones(11, 12), torch.zeros(11, 12)
    keep[:, 3] = 0.0
    w_t = model.recurrence.effective_weight().T
    x0 = torch.zeros(2, 12)
    hand = leaky_scan(drive, x0, w_t, model.alpha, model.activation, keep, value)
    auto = noisy_scan(
        Identity(), model.gate, drive, torch.zeros(2, 10, 6), x0, w_t, model.alpha,
        model.activation, keep, value, None,
    )  # fmt: skip
    for a, b in zip(hand, auto, strict=True):
        torch.testing.assert_close(a, b)


def test_a_model_with_gamma_noise_is_noisy_reproducible_and_trains():
    model = RateRNN(seed003_config(), seed=0)
    inputs = torch.rand(4, 20, 6, generator=torch.Generator().manual_seed(0)) * 30
    run = [model(inputs, generator=torch.Generator().manual_seed(s)) for s in (0, 0, 1)]
    assert torch.equal(run[0].outputs, run[1].outputs)
    assert not torch.equal(run[0].outputs, run[2].outputs)
    quiet = model.without_noise()(inputs)
    assert not torch.equal(quiet.outputs, run[0].outputs)
    torch.testing.assert_close(quiet.rates, model.activation(quiet.states))  # noise-free rates
    run[2].outputs.pow(2).mean().backward()
    grad = model.recurrence.weight_raw.grad
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert torch.isfinite(model.input.weight_raw.grad).all()


def test_the_readout_reads_the_noisy_rates_a_lesion_silences_exactly():
    model = RateRNN(seed003_config(), seed=0)
    inputs = torch.rand(3, 15, 6, generator=torch.Generator().manual_seed(0)) * 30
    rollout = model(inputs, generator=torch.Generator().manual_seed(0), intervention=Lesion([2]))
    weights = model.effective_weights()
    expected = rollout.rates @ weights.readout.T + weights.readout_bias
    torch.testing.assert_close(rollout.outputs, expected)
    assert torch.all(rollout.rates[..., 2] == 0)
    assert not torch.allclose(rollout.rates, model.activation(rollout.states))  # noisy


def test_zero_factor_is_the_plain_model_bit_for_bit():
    inputs = torch.rand(3, 15, 6, generator=torch.Generator().manual_seed(0))
    plain = RateRNN(seed003_config(noise="gaussian", spike_noise_factor=0.0), seed=0)
    off = RateRNN(seed003_config(spike_noise_factor=0.0), seed=0)
    assert torch.equal(plain(inputs).outputs, off(inputs).outputs)


def test_saturating_rate_function_known_values():
    f = Saturating(60.0)
    assert float(f(torch.tensor(30.0))) == pytest.approx(30.0)
    assert float(f(torch.tensor(0.0))) == pytest.approx(0.0135, abs=5e-5)
    assert float(f(torch.tensor(1e3))) == pytest.approx(60.0)
    config = seed003_config()
    assert RateRNN(config).activation.rate_max == 60.0


@pytest.mark.parametrize("e_units", ["first", "random"])
def test_half_excitatory_and_log_uniform_taus_sorted_within_e_and_i(e_units):
    model = RateRNN(seed003_config(n_rec=64, e_units=e_units), seed=3)
    sign, tau = model.recurrence.sign, model.tau
    assert int((sign > 0).sum()) == 32
    if e_units == "first":
        assert torch.all(sign[:32] == 1) and torch.all(sign[32:] == -1)
    assert tau.min() >= 50 and tau.max() <= 300
    for population in (sign > 0, sign < 0):
        assert torch.all(tau[population].diff() >= 0)
    unsorted = RateRNN(seed003_config(n_rec=64, e_units=e_units, sort_taus=False), seed=3).tau
    assert torch.equal(unsorted.sort().values, tau.sort().values)  # the same draws, reordered
    assert torch.all(model.recurrence.effective_weight()[:, sign < 0] <= 0)


def test_log_uniform_taus_are_log_uniform():
    config = seed003_config(n_rec=4000, recurrence="dense")  # the part alone: no 4000^2 matrix
    tau = LogUniformTau(config, generator=torch.Generator().manual_seed(0)).tau
    u = torch.log(tau / 50) / torch.log(torch.tensor(6.0))  # uniform on [0, 1]
    assert abs(float(u.mean()) - 0.5) < 0.02 and abs(float(u.var()) - 1 / 12) < 0.005
    assert torch.all(tau.diff() >= 0)  # without Dale: one population, sorted


@pytest.mark.parametrize(
    "changes, fragments",
    [
        ({"noise": "gaussian"}, ["ModelConfig.spike_noise_factor = 0.05", "choose noise"]),
        ({"activation": "tanh"}, ["ModelConfig.activation = 'tanh'", "rates >= 0"]),
        ({"spike_noise_factor": 1e-9}, ["ModelConfig.spike_noise_factor = 1e-09", "allowed"]),
        ({"spike_noise_factor": -0.1}, ["ModelConfig.spike_noise_factor = -0.1", "allowed"]),
        ({"tau": 100.0}, ["ModelConfig.sort_taus = True", "tau = 100.0", "want"]),
        ({"sort_taus": 1}, ["ModelConfig.sort_taus = 1", "want a bool"]),
    ],
)
def test_bad_spike_noise_configs_are_refused_by_name(changes, fragments):
    with pytest.raises(ValueError) as error:
        seed003_config(**changes)
    assert all(f in str(error.value) for f in fragments), str(error.value)
