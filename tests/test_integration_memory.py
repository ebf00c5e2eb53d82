"""The integration & memory study: the pulse task, the fixed-recurrence model and the analyses,
against known answers."""

import numpy as np
import pytest
import torch

from rnnbook.analysis import (
    at_dt,
    components_for_variance,
    correlation,
    masked_mse_per_trial,
    participation_ratio,
    precision_by_duration,
    spontaneous_rates,
    weight_correlation,
    windowed_pca,
)
from rnnbook.models import ModelConfig, RateRNN
from rnnbook.seeding import generator
from rnnbook.tasks import PulseIntegration, PulseIntegrationConfig
from rnnbook.training import TrainConfig, train


def fixed_model(n_rec=16, dt=10.0, seed=0) -> RateRNN:
    cfg = ModelConfig(
        n_in=1, n_out=1, n_rec=n_rec, dt=dt, tau=100.0, activation="tanh",
        spectral_radius=1.5, train_recurrent=False, bias=False,
    )  # fmt: skip
    return RateRNN(cfg, seed=seed)


# -- the task ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dt", [1.0, 10.0, 20.0])
def test_pulse_timing_in_ms_does_not_depend_on_dt(dt):
    task = PulseIntegration(PulseIntegrationConfig(dt=dt))
    trials = task.trials_at([15.0, 100.0, 250.0], onset_ms=3005.0)
    assert trials.n_steps == round(7000 / dt)
    integral = trials.inputs[..., 0].sum(1) * dt  # strength x duration, also for 15 ms at 20 ms
    assert torch.allclose(integral, 2.0 * torch.tensor([15.0, 100.0, 250.0]), rtol=1e-5)
    on = trials.times[trials.inputs[1, :, 0] > 0]
    assert on.min() <= 3005.0 < on.min() + dt and on.max() < 3105.0 <= on.max() + dt


@pytest.mark.parametrize("dt", [1.0, 10.0, 20.0])
def test_mask_covers_exactly_the_response_period_from_4500_ms(dt):
    trials = PulseIntegration(PulseIntegrationConfig(dt=dt)).sample(
        8, generator=generator(0, "trials")
    )
    judged = trials.times[trials.mask[0] > 0]
    assert judged.min() == 4500.0 and judged.max() == 7000.0 - dt
    assert torch.equal(trials.mask, trials.mask[:1].expand_as(trials.mask))


def test_target_is_0_007_per_ms_of_pulse_and_held_to_the_end():
    task = PulseIntegration(PulseIntegrationConfig(dt=10.0, catch_fraction=0.3))
    trials = task.sample(64, generator=generator(1, "trials"))
    duration = trials.conditions["duration"]
    judged = trials.mask > 0
    expected = (0.007 * duration)[:, None].expand_as(judged)
    assert torch.allclose(trials.targets[..., 0][judged], expected[judged])
    assert (trials.targets[..., 0][~judged] == 0).all()
    catch = duration == 0
    assert catch.any() and (trials.inputs[catch] == 0).all()
    pulse = duration[~catch]
    assert pulse.min() >= 50 and pulse.max() <= 250
    onset = trials.conditions["onset"]
    assert onset.min() >= 2000 and onset.max() <= 4000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dt": 0.0}, "dt"),
        ({"strength": -2.0}, "strength"),
        ({"catch_fraction": 1.0}, "catch_fraction"),
        ({"duration_ms": (250.0, 50.0)}, "duration_ms"),
        ({"cost_onset_ms": 4000.0}, "cost_onset_ms"),  # the latest pulse ends at 4250 ms
        ({"cost_onset_ms": 8000.0}, "cost_onset_ms"),
        ({"target_per_ms": 0.0}, "target_per_ms"),
    ],
)
def test_bad_task_config_names_field_value_and_range(change, field):
    with pytest.raises(
        ValueError, match=rf"PulseIntegrationConfig\.{field} = .* (allowed|must|want)"
    ):
        PulseIntegrationConfig(**change)


# -- the model --------------------------------------------------------------------------------


def test_only_input_and_readout_train_and_the_fixed_recurrent_weights_are_unchanged():
    model = fixed_model()
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"input.weight", "readout.weight"}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    task = PulseIntegration(PulseIntegrationConfig(dt=10.0))
    config = TrainConfig(n_steps=5, batch_size=8, lr=1e-2, loss="mse", eval_batch_size=8)
    train(model, task, config, progress=False)
    after = model.state_dict()
    assert torch.equal(after["recurrence.weight"], before["recurrence.weight"])
    assert not torch.equal(after["input.weight"], before["input.weight"])
    assert not torch.equal(after["readout.weight"], before["readout.weight"])


def test_g_is_the_spectral_radius_of_a_gaussian_matrix_of_variance_g2_over_n():
    n, g = 400, 1.5
    gaussian = g * torch.randn(n, n, generator=generator(3, "init")) / n**0.5  # the source's g G
    radius = torch.linalg.eigvals(gaussian.double()).abs().max()
    assert abs(radius - g) < 0.1 * g  # circular law: the eigenvalues fill the disc of radius g
    model = fixed_model(n_rec=64)
    eig = torch.linalg.eigvals(model.recurrence.effective_weight().double()).abs().max()
    assert eig == pytest.approx(1.5, rel=1e-6)


# -- the analyses -----------------------------------------------------------------------------


def orthonormal(n, k, seed=0) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))
    return q[:, :k].T  # [k, n]


def test_a_vector_equal_to_one_component_has_participation_ratio_1():
    comps = orthonormal(30, 10)
    result = participation_ratio(3.0 * comps[4], comps)
    assert result.ratio == pytest.approx(1.0)
    assert result.signed_ratio == pytest.approx(1.0)
    assert result.captured == pytest.approx(1.0)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_a_vector_spread_evenly_over_k_components_has_participation_ratio_k(k):
    comps = orthonormal(30, 10, seed=k)
    signs = np.where(np.arange(k) % 2 == 0, 1.0, -1.0)  # mixed signs
    result = participation_ratio(signs @ comps[:k], comps)
    assert result.ratio == pytest.approx(k)
    # the source's signed variant is not a count: alternating signs cancel
    assert result.signed_ratio == pytest.approx((signs.sum()) ** 2 / k)


def test_the_signed_variant_depends_on_the_arbitrary_sign_of_each_component():
    comps = orthonormal(20, 6, seed=1)
    vector = np.random.default_rng(2).normal(size=20)
    flipped = comps * np.array([1, -1, 1, -1, 1, 1])[:, None]
    a, b = participation_ratio(vector, comps), participation_ratio(vector, flipped)
    assert a.ratio == pytest.approx(b.ratio)
    assert a.signed_ratio != pytest.approx(b.signed_ratio)


def test_captured_is_the_fraction_of_the_vector_inside_the_span():
    comps = orthonormal(10, 10)
    vector = comps[0] + 2 * comps[7]  # squared norm 5, of which 1 in the first three
    assert participation_ratio(vector, comps[:3]).captured == pytest.approx(0.2)


def test_windowed_pca_averages_the_conditions_covariances_within_the_window():
    rng = np.random.default_rng(0)
    n, t = 6, 50
    u, v = np.eye(n)[0], np.eye(n)[1]
    rates = np.zeros((3, t, n))
    for c in range(3):  # each condition: its own offset along v, fluctuations along u
        rates[c] = 5.0 * c * v + rng.normal(size=(t, 1)) * u
    rates[:, :10] += 100.0 * rng.normal(size=(3, 10, n))  # outside the window: ignored
    result = windowed_pca(rates, dt=10.0, window_ms=(100.0, 500.0))
    assert abs(result.components[0] @ u) == pytest.approx(1.0)
    assert result.explained_variance_ratio[0] == pytest.approx(1.0)
    window = rates[:, 10:]
    mean_cov = np.mean([np.cov(w, rowvar=False) for w in window], axis=0)
    top = np.linalg.eigh(mean_cov)[1][:, -1]
    assert abs(top @ result.components[0]) == pytest.approx(1.0)


def test_masked_mse_counts_only_the_masked_steps():
    targets = torch.ones(2, 5, 1)
    outputs = targets + torch.tensor([0.5, -2.0])[:, None, None]
    outputs[:, :2] = 100.0  # not judged
    mask = torch.tensor([[0, 0, 1, 1, 1]] * 2, dtype=torch.float32)
    assert np.allclose(masked_mse_per_trial(outputs, targets, mask), [0.25, 4.0])


def test_a_silent_readout_has_the_squared_target_as_precision():
    model = fixed_model()
    with torch.no_grad():
        model.readout.weight.zero_()
    task = PulseIntegration(PulseIntegrationConfig(dt=10.0))
    result = precision_by_duration(model, task, [50, 150, 300])
    assert np.allclose(result.mse, (0.007 * np.array([50, 150, 300])) ** 2, rtol=1e-5)
    assert result.mean == pytest.approx(result.mse.mean())
    assert result.outputs.shape == result.targets.shape == (3, 700)


def test_weight_correlation_is_the_cosine_of_input_and_readout_weights():
    model = fixed_model()
    with torch.no_grad():
        model.readout.weight.copy_(-3.0 * model.input.weight.T)
    assert weight_correlation(model) == pytest.approx(-1.0)
    with torch.no_grad():
        model.readout.weight.copy_(model.input.weight.T)
        model.readout.weight[0, 0] = 0.0
        model.input.weight[1:, 0] = 0.0
    assert weight_correlation(model) == pytest.approx(0.0)


def test_a_network_without_biases_is_silent_from_zero_and_active_from_0_1():
    model = fixed_model(n_rec=64)
    assert (spontaneous_rates(model, duration_ms=1000, h0=0.0) == 0).all()
    rates = spontaneous_rates(model, duration_ms=1000, h0=0.1)
    assert rates.shape == (1, 100, 64) and rates[0, -1].abs().max() > 0.01


def test_correlation_of_a_linear_relation_is_one():
    x = np.arange(10.0)
    result = correlation(x, 2 * x + 1)
    assert result.r == pytest.approx(1.0) and result.rho == pytest.approx(1.0)
    assert result.p < 1e-6 and result.n == 10


def test_at_dt_copies_the_network_with_another_time_step_and_leaves_it_alone():
    model = fixed_model(dt=10.0)
    fine = at_dt(model, 1.0)
    assert fine.config.dt == 1.0 and model.config.dt == 10.0
    for name, value in model.state_dict().items():
        assert torch.equal(fine.state_dict()[name], value)
    same = at_dt(model, 10.0)
    inputs = torch.randn(2, 30, 1, generator=generator(0, "test_trials"))
    assert torch.equal(same(inputs).outputs, model(inputs).outputs)


def test_components_for_variance_counts_the_leading_components():
    rates = np.random.default_rng(0).normal(size=(1, 400, 5)) * [3, 2, 1, 0.1, 0.1]
    fitted = windowed_pca(rates, dt=1.0, window_ms=(0.0, 400.0))
    ratio = np.cumsum(fitted.explained_variance_ratio)
    k = components_for_variance(fitted, 0.9)
    assert ratio[k - 1] >= 0.9 and (k == 1 or ratio[k - 2] < 0.9)
    assert components_for_variance(fitted, 1.0) == 5


# -- the source's options: a fixed training set, a random initial state ----------------------


def test_fixed_training_set_repeats_exactly():
    task = PulseIntegration(PulseIntegrationConfig(dt=50.0, train_set_size=12))
    gen = generator(3, "trials")
    batches = [task.sample(8, generator=gen) for _ in range(30)]
    # every trial of every batch is one of the set's 12, reproduced exactly
    the_set = task.train_set(generator(3, "trials").initial_seed())
    assert the_set.batch_size == 12
    seen = set()
    for batch in batches:
        assert len(set(batch.conditions["duration"].tolist())) == 8  # distinct within a batch
        for b in range(batch.batch_size):
            match = [
                j for j in range(12) if torch.equal(batch.inputs[b], the_set.inputs[j])
                and torch.equal(batch.targets[b], the_set.targets[j])
            ]  # fmt: skip
            assert len(match) == 1
            seen.add(match[0])
    assert seen == set(range(12))  # 240 draws visit the whole set
    # the same seed makes the same set in another task instance; another seed another set
    again = PulseIntegration(task.config).train_set(generator(3, "trials").initial_seed())
    other = task.train_set(generator(4, "trials").initial_seed())
    assert torch.equal(again.inputs, the_set.inputs)
    assert not torch.equal(other.inputs, the_set.inputs)


def test_fixed_training_set_is_held_out_from_validation_and_fresh_is_unchanged():
    fixed = PulseIntegration(PulseIntegrationConfig(dt=50.0, train_set_size=5))
    assert fixed.held_out().config.train_set_size == 0
    fresh = PulseIntegration(PulseIntegrationConfig(dt=50.0))
    assert fresh.held_out() is fresh
    a = fresh.sample(6, generator=generator(0, "trials"))
    b = fresh.fresh(6, generator=generator(0, "trials"))
    assert torch.equal(a.inputs, b.inputs)  # the default draws what it drew before
    big = fixed.sample(9, generator=generator(0, "trials"))  # more than the set: repeats
    assert big.batch_size == 9 and len(set(big.conditions["duration"].tolist())) <= 5


@pytest.mark.parametrize("size", [-1, 1.5, 10**6])
def test_bad_training_set_size(size):
    with pytest.raises(ValueError, match="train_set_size"):
        PulseIntegrationConfig(dt=50.0, train_set_size=size)


def random_h0_model(h0_std=0.5, seed=0) -> RateRNN:
    cfg = ModelConfig(
        n_in=1, n_out=1, n_rec=16, dt=50.0, tau=100.0, activation="tanh",
        spectral_radius=1.5, train_recurrent=False, bias=False, h0_std=h0_std,
    )  # fmt: skip
    return RateRNN(cfg, seed=seed)


def test_random_h0_is_fixed_per_network_reproducible_and_leaves_the_weights():
    a, b, other = random_h0_model(seed=2), random_h0_model(seed=2), random_h0_model(seed=3)
    assert torch.equal(a.initial_state, b.initial_state)  # reproducible from the seed
    assert not torch.equal(a.initial_state, other.initial_state)  # differs between networks
    assert a.initial_state.std() == pytest.approx(0.5, rel=0.5)
    at_rest = random_h0_model(h0_std=0.0, seed=2)
    assert not hasattr(at_rest, "initial_state")
    for name, value in at_rest.state_dict().items():  # drawn last: the same weights
        assert torch.equal(value, a.state_dict()[name])
    task = PulseIntegration(PulseIntegrationConfig(dt=50.0))
    trials = task.trials_at([0.0, 100.0])
    with torch.no_grad():
        states = a(trials.inputs).states
        explicit = a(trials.inputs, a.initial_state[None]).states
        start = (1 - a.alpha) * a.initial_state + a.alpha * (
            a.effective_weights().recurrent @ torch.tanh(a.initial_state)
        )
    assert torch.equal(states, explicit)
    torch.testing.assert_close(states[0, 0], start)  # the first step leaves x_0, not 0
    assert not torch.equal(states[0, 0], at_rest(trials.inputs).states[0, 0])
    copy = at_dt(a, 10.0)  # the same network at another step keeps its initial state
    assert torch.equal(copy.initial_state, a.initial_state)


def test_random_h0_trains_the_same_alone_and_stacked(tmp_path):
    from rnnbook.runs import RunSpec
    from rnnbook.training.many import fit_many

    task_config = PulseIntegrationConfig(dt=50.0, train_set_size=20)
    model_config = ModelConfig(
        n_rec=8, tau=100.0, activation="tanh", spectral_radius=1.5, train_recurrent=False,
        bias=False, h0_std=0.5,
    )  # fmt: skip
    train_config = TrainConfig(n_steps=3, batch_size=4, lr=0.01, loss="mse", eval_every=3)
    specs = [RunSpec("pulse_integration", task_config, model_config, train_config, seed=s)
             for s in (0, 1)]  # fmt: skip
    stacked = fit_many(specs, cache_dir=tmp_path / "s", method="stacked", progress=False)
    serial = fit_many(specs, cache_dir=tmp_path / "p", method="serial", progress=False)
    for a, b in zip(stacked, serial, strict=True):
        np.testing.assert_allclose(a.history.loss, b.history.loss, rtol=1e-4)
        assert torch.equal(a.model.initial_state, b.model.initial_state)
