"""Gradient attribution (analysis.credit) and the discrete-map reading of fixed points
(analysis.map_stability): seed 000's known answers (spec section 0.9.7) and finite differences."""

import math

import pytest
import torch

import rnnbook as rb
from rnnbook.analysis.credit import (
    Gradients,
    collect_gradients,
    cosine,
    credit_metrics,
    gini,
    mean_credit,
)
from rnnbook.analysis.map_stability import classify_map_eigenvalues, map_stability


def small_network(leak=0.8, activation="tanh", n_rec=6):
    config = rb.ModelConfig(
        n_in=3,
        n_out=2,
        n_rec=n_rec,
        dt=100.0,
        tau=None,
        leak=leak,
        activation=activation,
        recurrence="dale",
        e_units="random",
        spectral_radius=1.3,
    )
    return rb.RateRNN(config, seed=3).double()


def squared_loss(target):
    return lambda outputs, rates: (outputs - target).square().mean() + 0.1 * rates.mean()


def hand_gradients(value, n_units=10, n_e=8, b=3, t=4):
    g = torch.full((b, t, n_units), value, dtype=torch.float64)
    excitatory = torch.arange(n_units) < n_e
    return Gradients(
        rates=torch.rand(b, t, n_units, generator=torch.Generator().manual_seed(0)),
        states=torch.zeros(b, t, n_units),
        inputs=torch.zeros(b, t, 2),
        grad_rates=g,
        grad_states=g.clone(),
        grad_inputs=torch.full((b, t, 2), value),
        excitatory=excitatory,
        loss=0.0,
    )


@pytest.mark.parametrize("c", [0.3, -2.0])
def test_constant_gradient_known_answers(c):
    metrics = credit_metrics(hand_gradients(c))
    assert torch.allclose(metrics.fisher, torch.full((10,), c**2, dtype=torch.float64))
    for pop, size in [("E", 8), ("I", 2)]:
        assert torch.allclose(metrics.rms[pop], torch.tensor(abs(c), dtype=torch.float64))
        assert torch.allclose(metrics.l2[pop], torch.tensor(abs(c) * math.sqrt(size)).double())
        assert torch.allclose(metrics.mean_abs[pop], torch.tensor(abs(c), dtype=torch.float64))
        assert metrics.summary[pop]["fisher_gini"] == pytest.approx(0.0, abs=1e-12)
        assert metrics.summary[pop]["wbp_mean_mean"] == pytest.approx(abs(c))
        assert metrics.summary[pop]["wbp_sum_mean"] == pytest.approx(abs(c) * 3 * 4)


def test_gini_known_answers():
    assert gini(torch.full((7,), 2.5)) == pytest.approx(0.0, abs=1e-12)
    for n in (2, 5, 40):
        assert gini(torch.eye(n)[0]) == pytest.approx((n - 1) / n)
    assert gini([1.0, 3.0]) == pytest.approx(0.25)  # 2 (1 + 6) / 8 - 3/2
    with pytest.raises(ValueError, match="non-negative"):
        gini([1.0, -1.0])


def test_cosine_of_a_scaled_vector_is_one():
    h = torch.randn(5, 9, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for scale in (1e-3, 1.0, 7.0):
        assert torch.allclose(cosine(h, scale * h), torch.ones(5, dtype=torch.float64))
    assert torch.allclose(cosine(h, -h), -torch.ones(5, dtype=torch.float64))


def test_period_averages_and_saliency_split():
    grads = hand_gradients(1.0)
    fixation = torch.zeros(3, 4)
    fixation[:, :2] = 1
    metrics = credit_metrics(grads, fixation=fixation, decision=1 - fixation)
    assert metrics.summary["E"]["fixation"] == pytest.approx(1.0)
    assert metrics.summary["I"]["decision"] == pytest.approx(1.0)
    assert metrics.saliency.shape == (2, 4)
    assert torch.isnan(metrics.saliency_fixation[:, 2:]).all()
    assert torch.allclose(metrics.saliency_decision[:, 2:], torch.ones(2, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="decision"):
        credit_metrics(grads, decision=torch.ones(3, 5))


def test_the_unrolled_rollout_is_the_models():
    model = small_network()
    inputs = torch.rand(4, 7, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    grads = collect_gradients(model, inputs, lambda outputs, rates: outputs.sum())
    rollout = model(inputs)
    assert torch.allclose(grads.rates, rollout.rates, atol=1e-12)
    assert torch.allclose(grads.states, rollout.states, atol=1e-12)
    assert grads.excitatory.tolist() == (model.recurrence.signs > 0).tolist()
    assert all(p.grad is None for p in model.parameters())


def loss_of_rollout(model, inputs, target, intervention=None):
    rollout = model(inputs, intervention=intervention)
    return float(squared_loss(target)(rollout.outputs, rollout.rates).detach())


@pytest.mark.parametrize("leak", [1.0, 0.5])
def test_rate_and_state_adjoints_match_finite_differences(leak):
    """dL/dr_t by a clamp of one unit's rate at step t to r + eps; dL/dx_t by an injected
    current c at step t, which moves x_t by alpha c (so dL/dc = alpha dL/dx_t)."""
    model = small_network(leak=leak)
    gen = torch.Generator().manual_seed(5)
    inputs = torch.rand(1, 6, 3, generator=gen, dtype=torch.float64)
    target = torch.rand(1, 6, 2, generator=gen, dtype=torch.float64)
    grads = collect_gradients(model, inputs, squared_loss(target))
    eps, dt = 1e-6, model.config.dt
    for t, unit in [(1, 0), (2, 3), (4, 5), (5, 1)]:  # a clamp at step 0 also holds f(h0)
        window = {"start_ms": t * dt, "stop_ms": (t + 1) * dt}
        rate = float(grads.rates[0, t, unit])
        plus, minus = (
            loss_of_rollout(model, inputs, target, rb.Clamp([unit], [rate + s], **window))
            for s in (eps, -eps)
        )
        assert (plus - minus) / (2 * eps) == pytest.approx(
            float(grads.grad_rates[0, t, unit]), rel=1e-5, abs=1e-9
        )
        plus, minus = (
            loss_of_rollout(model, inputs, target, rb.Perturb([unit], [s], **window))
            for s in (eps, -eps)
        )
        expected = leak * float(grads.grad_states[0, t, unit])
        assert (plus - minus) / (2 * eps) == pytest.approx(expected, rel=1e-5, abs=1e-9)


def test_input_saliency_matches_finite_differences():
    model = small_network()
    gen = torch.Generator().manual_seed(6)
    inputs = torch.rand(2, 5, 3, generator=gen, dtype=torch.float64)
    target = torch.rand(2, 5, 2, generator=gen, dtype=torch.float64)
    grads = collect_gradients(model, inputs, squared_loss(target))
    bumped = inputs.clone()
    bumped[1, 3, 2] += 1e-6
    change = (
        loss_of_rollout(model, bumped, target) - loss_of_rollout(model, inputs, target)
    ) / 1e-6
    assert change == pytest.approx(float(grads.grad_inputs[1, 3, 2]), rel=1e-4)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="n_in = 3"):
        collect_gradients(small_network(), torch.zeros(2, 4, 5), lambda o, r: o.sum())


def hand_points(map_jacobians, dt=100.0):
    jd = torch.stack([torch.as_tensor(j, dtype=torch.float64) for j in map_jacobians])
    jac = (jd - torch.eye(jd.shape[-1], dtype=torch.float64)) / dt
    eig = torch.linalg.eigvals(jac)
    n = len(jd)
    return rb.FixedPoints(
        x=torch.zeros(n, jd.shape[-1]),
        q=torch.zeros(n),
        jacobian=jac,
        eigvals=eig,
        is_stable=(eig.real < 0).all(dim=1),
        inputs=torch.zeros(n, 1),
        n_initial=n,
        tol_q=1e-10,
    )


def rotation(angle, modulus):
    c, s = math.cos(angle), math.sin(angle)
    return [[modulus * c, -modulus * s], [modulus * s, modulus * c]]


def test_the_originals_labels_on_hand_built_jacobians():
    jacobians = [
        [[0.5, 0.0], [0.0, 0.3]],  # stable
        [[1.0, 0.0], [0.0, 0.5]],  # continuous: a line attractor
        rotation(0.4, 1.03),  # rotational: a complex pair just outside the unit circle
        [[1.5, 0.0], [0.0, 0.5]],  # saddle
        [[3.0, 0.0], [0.0, 2.0]],  # a source: the original calls it a saddle too
    ]
    result = map_stability(hand_points(jacobians), dt=100.0)
    assert result.labels == ["stable", "continuous", "rotational", "saddle", "saddle"]
    assert torch.allclose(result.spectral_radius, torch.tensor([0.5, 1.0, 1.03, 1.5, 3.0]).double())
    assert torch.allclose(result.margin, 1 - result.spectral_radius)
    # the rotation's mu = 1.03 exp(+-0.4i) lies outside the unit circle while its continuous-time
    # lambda = (mu - 1) / dt has a negative real part: the Euler map with this large a step
    # spirals out where the flow it discretises spirals in
    assert result.n_unstable.tolist() == [0, 0, 0, 1, 2]
    assert result.counts() == {
        "stable": 1,
        "continuous": 1,
        "rotational": 1,
        "saddle": 2,
        "unstable": 0,
    }
    nan = torch.tensor([[float("nan"), 0.5]])
    assert classify_map_eigenvalues(nan) == ["unstable"]  # only non-finite eigenvalues get here
    # "stable" is tested first, so "continuous" needs max |mu| within 1e-3 of 1, not 0.02
    assert classify_map_eigenvalues(torch.tensor([[0.99, 0.2]])) == ["stable"]
    assert classify_map_eigenvalues(torch.tensor([[1.01, 0.2]])) == ["saddle"]
    assert classify_map_eigenvalues(torch.tensor([[1.0005, 0.999]])) == ["continuous"]


def test_map_spectrum_of_a_linear_leaky_network_is_known():
    """Linear rate function: the map's Jacobian is (1 - alpha) I + alpha W."""
    model = small_network(leak=0.5, activation="linear", n_rec=5)
    points = rb.find_fixed_points(model, torch.zeros(3), torch.randn(8, 5, dtype=torch.float64))
    assert len(points) == 1
    result = map_stability(points, dt=model.config.dt)
    w = model.effective_weights().recurrent.detach().double()
    expected = torch.linalg.eigvals(0.5 * torch.eye(5, dtype=torch.float64) + 0.5 * w).abs().max()
    assert float(result.spectral_radius[0]) == pytest.approx(float(expected), rel=1e-8)


def test_mean_credit_averages_every_measure():
    one, three = credit_metrics(hand_gradients(1.0)), credit_metrics(hand_gradients(3.0))
    mean = mean_credit([one, three])
    assert torch.allclose(mean.fisher, torch.full((10,), 5.0, dtype=torch.float64))  # (1 + 9) / 2
    assert torch.allclose(mean.rms["I"], torch.tensor(2.0, dtype=torch.float64))
    assert mean.summary["E"]["wbp_mean_mean"] == pytest.approx(2.0)
    assert torch.equal(mean.excitatory, one.excitatory)
    with pytest.raises(ValueError, match="no metrics"):
        mean_credit([])
