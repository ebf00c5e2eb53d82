"""Rate RNN: Dale's law, noise statistics, spectral radius, and a reference implementation."""

import math

import pytest
import torch

from rnnbook.models import ModelConfig, RateRNN
from rnnbook.models.gated_scan import gated_scan
from rnnbook.models.init import spectral_radius
from rnnbook.models.scan import leaky_scan


def _config(**kw):
    return ModelConfig(**{"n_in": 2, "n_out": 2, "n_rec": 40, **kw})


def test_dale_signs_survive_an_optimiser_step():
    model = RateRNN(_config(dale=True, e_frac=0.8, readout="excitatory"), seed=1)
    opt = torch.optim.Adam(model.parameters(), lr=0.5)  # big steps: many raw weights cross 0
    for _ in range(3):
        out = model(torch.randn(8, 10, 2)).outputs
        opt.zero_grad()
        (out**2).sum().backward()
        opt.step()
    w = model.recurrence.effective_weight()
    n_e = model.config.n_excitatory
    assert n_e == 32
    assert torch.all(w[:, :n_e] >= 0) and torch.all(w[:, n_e:] <= 0)
    assert torch.all(model.input.effective_weight() >= 0)
    readout = model.readout.effective_weight()
    assert torch.all(readout[:, n_e:] == 0) and torch.all(readout >= 0)


@pytest.mark.parametrize("dale", [False, True])
def test_initial_spectral_radius_is_the_configured_one(dale):
    model = RateRNN(_config(dale=dale, spectral_radius=0.7), seed=0)
    assert spectral_radius(model.recurrence.effective_weight()) == pytest.approx(0.7, rel=1e-5)


def _silent(config):
    """A model whose weights and biases are all zero, so only noise moves the state."""
    model = RateRNN(config, seed=0)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return model


def test_recurrent_noise_has_the_variance_of_the_formula():
    sigma, alpha = 0.3, 0.2
    model = _silent(_config(n_rec=50, sigma_rec=sigma, dt=20, tau=100))
    gen = torch.Generator().manual_seed(0)
    states = model(torch.zeros(4000, 60, 2), generator=gen).states.detach()
    # one step from x = 0: variance 2 alpha sigma^2; stationary: 2 sigma^2 / (2 - alpha)
    assert states[:, 0].var() == pytest.approx(2 * alpha * sigma**2, rel=0.02)
    assert states[:, -1].var() == pytest.approx(2 * sigma**2 / (2 - alpha), rel=0.03)


def test_input_noise_reaches_the_state_with_sqrt_2_alpha_sigma():
    sigma, alpha = 0.5, 0.1
    model = _silent(_config(n_in=1, n_rec=20, sigma_in=sigma, dt=10, tau=100))
    with torch.no_grad():
        model.input.weight.fill_(1.0)
    states = model(
        torch.zeros(20000, 1, 1), generator=torch.Generator().manual_seed(1)
    ).states.detach()
    assert states[:, 0].var() == pytest.approx(2 * alpha * sigma**2, rel=0.03)


def _reference_forward(model, inputs, seed):
    """A plain, unoptimised Euler loop written straight from the equations (autograd only).

    It draws the noise in the model's order (input noise, then recurrent noise) from its own
    generator seeded like the model's, so noisy rollouts can be compared exactly.
    """
    cfg, f = model.config, model.activation
    batch, n_steps, _ = inputs.shape
    gen = torch.Generator().manual_seed(seed)
    if cfg.sigma_in > 0:
        inputs = inputs + (2 / cfg.alpha) ** 0.5 * cfg.sigma_in * torch.randn(
            inputs.shape, generator=gen
        )
    noise = torch.zeros(n_steps, batch, cfg.n_rec)
    if cfg.sigma_rec > 0:
        noise = torch.randn(n_steps * batch, cfg.n_rec, generator=gen).view(n_steps, batch, -1)
        noise = (2 / cfg.alpha) ** 0.5 * cfg.sigma_rec * noise
    w_in, w = model.input.effective_weight(), model.recurrence.effective_weight()
    x, states = torch.zeros(batch, cfg.n_rec), []
    for t in range(n_steps):
        r = f(x)
        rec = r @ w.T
        if model.gate is not None:
            g = model.gate
            rec = (
                torch.sigmoid(inputs[:, t] @ g.input_weight.T + r @ g.rate_weight.T + g.bias) * rec
            )
        drive = inputs[:, t] @ w_in.T + model.bias + noise[t]
        x = (1 - cfg.alpha) * x + cfg.alpha * (rec + drive)
        states.append(x)
    states = torch.stack(states, 1)
    return states, f(states) @ model.readout.effective_weight().T + model.readout_bias


CONSTRAINTS = [
    {},
    {"dale": True},
    {"dale": True, "gating": True},
    {"activation": "tanh", "train_recurrent": False},
    {"activation": "softplus", "readout": "excitatory", "dale": True},
    {"sigma_rec": 0.2, "sigma_in": 0.1},
    {"dale": True, "gating": True, "sigma_rec": 0.1, "train_recurrent": False},
]


@pytest.mark.parametrize("kw", CONSTRAINTS)
def test_forward_and_gradients_equal_the_reference_loop(kw):
    model = RateRNN(_config(**kw), seed=3)
    inputs = torch.randn(5, 12, 2)
    targets = torch.randn(5, 12, 2)
    rollout = model(inputs, generator=torch.Generator().manual_seed(9))
    loss = ((rollout.outputs - targets) ** 2).mean() + rollout.rates.pow(2).mean()
    fast = torch.autograd.grad(loss, list(model.parameters()))
    states, outputs = _reference_forward(model, inputs, seed=9)
    ref_loss = ((outputs - targets) ** 2).mean() + model.activation(states).pow(2).mean()
    reference = torch.autograd.grad(ref_loss, list(model.parameters()))
    torch.testing.assert_close(rollout.states, states, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(rollout.outputs, outputs, rtol=1e-5, atol=1e-6)
    for a, b in zip(fast, reference, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus"])
def test_scan_backward_passes_gradcheck(activation):
    gen = torch.Generator().manual_seed(0)
    drive = torch.randn(6, 3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    x0 = torch.randn(3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    w_t = (0.5 * torch.randn(4, 4, generator=gen, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda d, x, w: leaky_scan(d, x, w, 0.3, activation), (drive, x0, w_t)
    )


def test_fixed_recurrence_is_not_trained():
    model = RateRNN(_config(train_recurrent=False, dale=True), seed=0)
    before = model.recurrence.effective_weight().clone()
    names = [name for name, _ in model.named_parameters()]
    assert not any(name.startswith("recurrence.") for name in names)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(4, 8, 2)).outputs.pow(2).sum().backward()
        opt.step()
    assert torch.equal(model.recurrence.effective_weight(), before)
    assert "recurrence.weight_raw" in model.state_dict()


def test_same_seed_same_weights_different_seed_different_weights():
    a, b, c = (RateRNN(_config(dale=True), seed=s) for s in (4, 4, 5))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.recurrence.weight_raw, c.recurrence.weight_raw)


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"e_frac": 1.5}, "e_frac"),
        ({"activation": "sigmoid"}, "activation"),
        ({"tau": -1}, "tau"),
        ({"dt": 200.0, "tau": 100.0}, "dt"),
        ({"readout": "excitatory"}, "readout"),
        ({"sigma_rec": -0.1}, "sigma_rec"),
    ],
)
def test_bad_model_config_names_the_field_and_value(kw, field):
    with pytest.raises(ValueError, match=field) as err:
        _config(**kw)
    assert str(list(kw.values())[0]) in str(err.value) or field == "readout"


def test_alpha_is_derived_not_stored():
    cfg = _config(dt=10, tau=50)
    assert cfg.alpha == pytest.approx(0.2)
    assert "alpha" not in {f for f in cfg.__dataclass_fields__}
    assert math.isclose(ModelConfig(n_in=1, n_out=1, dt=5, tau=50).alpha, 0.1)


@pytest.mark.parametrize("n_rec", [5, 6])  # the two ways of the weight gradient (n <= b, n > b)
def test_stacked_scan_equals_one_scan_per_network(n_rec):
    gen = torch.Generator().manual_seed(1)
    drive = torch.randn(7, 3, 5, n_rec, generator=gen, requires_grad=True)  # [T, K, B, N]
    w_t = (0.4 * torch.randn(3, n_rec, n_rec, generator=gen)).requires_grad_()
    x0 = torch.zeros(3, 5, n_rec)
    states, rates = leaky_scan(drive, x0, w_t, 0.2, "tanh")
    (states.square().sum() + rates.sum()).backward()
    for k in range(3):
        d, w = drive.detach()[:, k].requires_grad_(), w_t.detach()[k].requires_grad_()
        single_states, single_rates = leaky_scan(d, x0[k], w, 0.2, "tanh")
        (single_states.square().sum() + single_rates.sum()).backward()
        torch.testing.assert_close(states[:, k], single_states)
        torch.testing.assert_close(rates[:, k], single_rates)
        torch.testing.assert_close(drive.grad[:, k], d.grad)
        torch.testing.assert_close(w_t.grad[k], w.grad)


def test_stacked_scan_of_a_member_major_drive_equals_a_time_major_one():
    gen = torch.Generator().manual_seed(4)
    members = torch.randn(3, 7, 5, 4, generator=gen)  # [K, T, B, N], each member contiguous
    w_t = 0.5 * torch.randn(3, 4, 4, generator=gen)
    x0 = torch.zeros(3, 5, 4)
    results = []
    for drive in (members.transpose(0, 1), members.transpose(0, 1).contiguous()):
        drive, w = drive.detach().requires_grad_(), w_t.clone().requires_grad_()
        states, rates = leaky_scan(drive, x0, w, 0.2, "relu")
        (rates.square().sum() + states.sum()).backward()
        results.append((states, rates, drive.grad, w.grad))
    member_major, time_major = results
    assert member_major[1].stride(1) > member_major[1].stride(0)  # the scan kept the layout
    for a, b in zip(member_major, time_major, strict=True):
        torch.testing.assert_close(a, b)


def test_scan_rates_are_the_activation_of_the_states():
    gen = torch.Generator().manual_seed(3)
    drive, x0, w_t = torch.randn(6, 2, 4, generator=gen), torch.zeros(2, 4), torch.eye(4)
    for activation, f in (("relu", torch.relu), ("tanh", torch.tanh)):
        states, rates = leaky_scan(drive, x0, w_t, 0.3, activation)
        torch.testing.assert_close(rates, f(states), rtol=0, atol=0)
        states, rates = gated_scan(drive, drive, x0, w_t, w_t, 0.3, activation)
        torch.testing.assert_close(rates, f(states), rtol=0, atol=0)


@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus"])
def test_gated_scan_backward_passes_gradcheck(activation):
    gen = torch.Generator().manual_seed(2)

    def rand(*shape, scale=1.0):
        x = scale * torch.randn(*shape, generator=gen, dtype=torch.float64)
        return x.requires_grad_()

    args = (rand(5, 3, 4), rand(5, 3, 4), rand(3, 4), rand(4, 4, scale=0.5), rand(4, 4, scale=0.5))
    assert torch.autograd.gradcheck(
        lambda d, g, x, w, wg: gated_scan(d, g, x, w, wg, 0.3, activation), args
    )


@pytest.mark.parametrize("kw", [{}, {"dale": True, "gating": True}, {"activation": "tanh"}])
def test_velocity_is_the_euler_step_of_forward(kw):
    model = RateRNN(_config(**kw), seed=2)
    inputs, x0 = torch.randn(3, 4, 2), torch.randn(3, model.config.n_rec)
    first = model(inputs, x0).states[:, 0]
    euler = x0 + model.config.dt * model.velocity(x0, inputs[:, 0])
    torch.testing.assert_close(first, euler, rtol=1e-5, atol=1e-6)


def test_without_bias_only_the_weights_are_parameters():
    model = RateRNN(_config(bias=False, train_recurrent=False, activation="tanh"), seed=0)
    assert sorted(n for n, _ in model.named_parameters()) == ["input.weight", "readout.weight"]
    assert torch.all(model.bias == 0) and "bias" in model.state_dict()
