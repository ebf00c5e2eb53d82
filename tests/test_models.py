"""Rate RNN: Dale's law, noise statistics, spectral radius, and a reference implementation."""

import math

import pytest
import reference_rnn
import torch
from reference_rnn import PART_CONFIGS, covered_parts, reference_forward

from rnnbook.models import PARTS, ModelConfig, RateRNN
from rnnbook.models.gated_scan import gated_scan
from rnnbook.models.init import spectral_radius
from rnnbook.models.rates import RATE_FUNCTIONS
from rnnbook.models.scan import leaky_scan
from rnnbook.models.time_constants import LogUniformTau

DALE = {"recurrence": "dale", "input_weights": "nonnegative", "readout_weights": "nonnegative"}


def _config(**kw):
    return ModelConfig(**{"n_in": 2, "n_out": 2, "n_rec": 40, "dt": 20.0, **kw})


def _big_adam_steps(model) -> None:
    """Three Adam steps of learning rate 0.5: many raw weights cross 0."""
    opt = torch.optim.Adam(model.parameters(), lr=0.5)
    for _ in range(3):
        out = model(torch.randn(8, 10, 2)).outputs
        opt.zero_grad()
        (out**2).sum().backward()
        opt.step()


def test_dale_signs_survive_an_optimiser_step():
    model = RateRNN(_config(**DALE | {"e_frac": 0.8, "readout_weights": "excitatory"}), seed=1)
    _big_adam_steps(model)
    w = model.recurrence.effective_weight()
    n_e = model.config.n_excitatory
    assert n_e == 32
    assert torch.all(w[:, :n_e] >= 0) and torch.all(w[:, n_e:] <= 0)
    assert torch.all(model.input.effective_weight() >= 0)
    readout = model.readout.effective_weight()
    assert torch.all(readout[:, n_e:] == 0) and torch.all(readout >= 0)


@pytest.mark.parametrize("recurrence", sorted(PARTS["recurrence"]))
def test_initial_spectral_radius_is_the_configured_one(recurrence):
    model = RateRNN(_config(recurrence=recurrence, rank=3, spectral_radius=0.7), seed=0)
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


@pytest.mark.parametrize("kw", PART_CONFIGS, ids=str)
def test_forward_and_gradients_equal_the_reference_loop(kw):
    model = reference_rnn.model(**kw)
    inputs = torch.randn(5, 12, 2)
    targets = torch.randn(5, 12, 2)
    rollout = model(inputs, generator=torch.Generator().manual_seed(9))
    loss = ((rollout.outputs - targets) ** 2).mean() + rollout.rates.pow(2).mean()
    fast = torch.autograd.grad(loss, list(model.parameters()))
    states, rates, outputs = reference_forward(model, inputs, seed=9)
    ref_loss = ((outputs - targets) ** 2).mean() + rates.pow(2).mean()
    reference = torch.autograd.grad(ref_loss, list(model.parameters()))
    torch.testing.assert_close(rollout.states, states, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(rollout.outputs, outputs, rtol=1e-5, atol=1e-6)
    for a, b in zip(fast, reference, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_the_equivalence_configs_cover_every_registered_part():
    for part, used in covered_parts().items():
        assert used == set(PARTS[part]), (
            f"{part}: no equivalence test for {set(PARTS[part]) - used}"
        )


ALPHAS = [0.3, torch.tensor([0.1, 0.3, 0.5, 1.0], dtype=torch.float64)]  # one, and per unit


@pytest.mark.parametrize("alpha", ALPHAS, ids=["scalar", "per-unit"])
@pytest.mark.parametrize("activation", sorted(RATE_FUNCTIONS))
def test_scan_backward_passes_gradcheck(activation, alpha):
    gen = torch.Generator().manual_seed(0)
    drive = torch.randn(6, 3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    x0 = torch.randn(3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    w_t = (0.5 * torch.randn(4, 4, generator=gen, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda d, x, w: leaky_scan(d, x, w, alpha, activation), (drive, x0, w_t)
    )


def test_fixed_recurrence_is_not_trained():
    model = RateRNN(_config(train_recurrent=False, **DALE), seed=0)
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
    a, b, c = (RateRNN(_config(**DALE), seed=s) for s in (4, 4, 5))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.recurrence.weight_raw, c.recurrence.weight_raw)


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"e_frac": 1.5}, "e_frac"),
        ({"activation": "sigmoid"}, "activation"),
        ({"recurrence": "sparse"}, "recurrence"),
        ({"tau": -1}, "tau"),
        ({"tau": (300.0, 50.0)}, "tau"),
        ({"tau": 100.0, "leak": 0.2}, "tau"),
        ({"leak": 1.5, "tau": None}, "leak"),
        ({"dt": 200.0, "tau": 100.0}, "dt"),
        ({"readout_weights": "excitatory"}, "readout_weights"),
        ({"sigma_rec": -0.1}, "sigma_rec"),
        ({"n_rec": 16.5}, "n_rec"),
        ({"tau": "abc"}, "tau"),
        ({"train_recurrent": "no"}, "train_recurrent"),
        ({"recurrence": "low_rank", "rank": 40}, "rank"),
    ],
)
def test_bad_model_config_names_the_field_and_value(kw, field):
    with pytest.raises(ValueError, match=field) as err:
        _config(**kw)
    assert str(kw[field]) in str(err.value)


def test_alpha_is_derived_not_stored():
    cfg = _config(dt=10, tau=50)
    assert cfg.alpha == pytest.approx(0.2)
    assert "alpha" not in {f for f in cfg.__dataclass_fields__}
    assert math.isclose(ModelConfig(n_in=1, n_out=1, dt=5, tau=50).alpha, 0.1)
    leak = _config(tau=None, leak=0.25)
    assert leak.alpha == 0.25 and leak.tau is None
    assert RateRNN(leak).tau == pytest.approx(80.0)  # derived: dt / leak


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


@pytest.mark.parametrize("kw", PART_CONFIGS, ids=str)
def test_velocity_is_the_euler_step_of_forward(kw):
    quiet = {"sigma_rec": 0.0, "sigma_in": 0.0, "spike_noise_factor": 0.0}
    model = reference_rnn.model(seed=2, **(kw | quiet))
    inputs, x0 = torch.randn(3, 4, 2), torch.randn(3, model.config.n_rec)
    first = model(inputs, x0).states[:, 0]
    euler = x0 + model.config.dt * model.velocity(x0, inputs[:, 0])
    torch.testing.assert_close(first, euler, rtol=1e-5, atol=1e-6)


def test_without_bias_only_the_weights_are_parameters():
    model = RateRNN(_config(bias=False, train_recurrent=False, activation="tanh"), seed=0)
    assert sorted(n for n, _ in model.named_parameters()) == ["input.weight", "readout.weight"]
    assert torch.all(model.bias == 0) and "bias" in model.state_dict()


@pytest.mark.parametrize("rank", [1, 2, 5])
def test_low_rank_recurrence_has_rank_at_most_r_plus_one_for_any_parameters(rank):
    model = RateRNN(_config(recurrence="low_rank", rank=rank), seed=rank)
    gen = torch.Generator().manual_seed(rank)
    for _ in range(5):  # random factors of any scale, and after optimiser steps
        with torch.no_grad():
            for p in model.recurrence.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * 3)
        w = model.recurrence.effective_weight().detach().double()
        s = torch.linalg.svdvals(w)
        assert int((s > 1e-5 * s[0]).sum()) <= rank + 1
    opt = torch.optim.Adam(model.parameters(), lr=0.3)
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(4, 8, 2)).outputs.pow(2).sum().backward()
        opt.step()
    s = torch.linalg.svdvals(model.recurrence.effective_weight().detach().double())
    assert int((s > 1e-5 * s[0]).sum()) <= rank + 1
    assert int((s > 1e-5 * s[0]).sum()) == rank + 1  # generic parameters reach the bound


@pytest.mark.parametrize("gate", sorted(PARTS["gate"]))
@pytest.mark.parametrize("activation", sorted(RATE_FUNCTIONS))
def test_a_per_unit_tau_of_equal_values_gives_exactly_the_scalar_tau_result(activation, gate):
    kw = {"activation": activation, "gate": gate, "sigma_rec": 0.1, "rate_max": 3.0}
    scalar = RateRNN(_config(tau=100.0, **kw), seed=1)
    per_unit = RateRNN(_config(tau=(100.0, 100.0), **kw), seed=1)
    per_unit.load_state_dict(scalar.state_dict() | {"time_constants.tau": per_unit.tau})
    assert per_unit.alpha.shape == (40,) and torch.all(per_unit.tau == 100.0)
    inputs = torch.randn(4, 30, 2)
    results = []
    for model in (scalar, per_unit):
        rollout = model(inputs, generator=torch.Generator().manual_seed(0))
        loss = rollout.outputs.square().sum() + rollout.rates.sum() + rollout.states.sum()
        results.append((rollout.states, *torch.autograd.grad(loss, list(model.parameters()))))
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)


def test_per_unit_time_constants_are_log_uniform_fixed_and_seeded():
    config = _config(n_rec=20000, tau=(50.0, 300.0))
    taus = LogUniformTau(config, generator=torch.Generator().manual_seed(0)).tau
    assert taus.min() >= 50.0 and taus.max() <= 300.0
    # log-uniform: log tau is uniform on [log 50, log 300]: its mean and variance
    width = math.log(300 / 50)
    assert taus.log().mean().item() == pytest.approx(math.log(50 * 300) / 2, abs=0.01)
    assert taus.log().var().item() == pytest.approx(width**2 / 12, rel=0.03)
    model = RateRNN(_config(tau=(50.0, 300.0)), seed=0)
    assert "time_constants.tau" in model.state_dict()
    assert not any("tau" in name for name, _ in model.named_parameters())
    assert torch.equal(RateRNN(_config(tau=(50.0, 300.0)), seed=0).tau, model.tau)
    assert not torch.equal(RateRNN(_config(tau=(50.0, 300.0)), seed=1).tau, model.tau)


@pytest.mark.parametrize("kw", PART_CONFIGS, ids=str)
def test_effective_weights_set_and_read_back(kw):
    model, source = reference_rnn.model(seed=0, **kw), reference_rnn.model(seed=0, **kw)
    with torch.no_grad():  # scramble the copy's weights (the other parts stay as they are)
        for name, p in model.named_parameters():
            if not name.startswith("gate."):
                p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    weights = source.effective_weights()
    model.set_effective_weights(**{k: v.detach() for k, v in vars(weights).items()})
    for name, value in vars(model.effective_weights()).items():
        torch.testing.assert_close(value, getattr(weights, name), rtol=1e-5, atol=1e-6)
    inputs = torch.randn(2, 6, 2)
    quiet = source.without_noise(), model.without_noise()
    torch.testing.assert_close(quiet[0](inputs).outputs, quiet[1](inputs).outputs)


def test_hand_built_weights_that_break_a_constraint_are_refused_by_name():
    dale = RateRNN(_config(**DALE), seed=0)
    with pytest.raises(ValueError, match="Dale's law"):
        dale.set_effective_weights(recurrent=torch.randn(40, 40))
    with pytest.raises(ValueError, match="non-negative"):
        dale.set_effective_weights(input=-torch.ones(40, 2))
    low = RateRNN(_config(recurrence="low_rank", rank=2), seed=0)
    with pytest.raises(ValueError, match="rank > 3"):
        low.set_effective_weights(recurrent=torch.randn(40, 40))
    line = torch.outer(torch.ones(40), torch.ones(40)) / 40  # rank 1: a line attractor
    low.set_effective_weights(recurrent=line)
    torch.testing.assert_close(low.effective_weights().recurrent, line)
    with pytest.raises(ValueError, match="shape"):
        RateRNN(_config(), seed=0).set_effective_weights(readout=torch.zeros(3, 3))
    with pytest.raises(ValueError, match="unknown weights"):
        RateRNN(_config(), seed=0).set_effective_weights(recurrence=torch.zeros(40, 40))


def test_a_model_without_noise_is_a_copy_and_the_original_keeps_its_noise():
    model = RateRNN(_config(sigma_rec=0.5), seed=0)
    quiet = model.without_noise()
    inputs = torch.randn(3, 10, 2)
    torch.testing.assert_close(quiet(inputs).outputs, quiet(inputs).outputs, rtol=0, atol=0)
    assert model.config.sigma_rec == 0.5 and quiet.config.sigma_rec == 0.0
    a = model(inputs, generator=torch.Generator().manual_seed(0)).outputs
    b = model(inputs, generator=torch.Generator().manual_seed(1)).outputs
    assert not torch.allclose(a, b)


def test_dale_units_first_or_random_permutation():
    first = RateRNN(_config(**DALE), seed=0).recurrence.sign
    assert torch.all(first[:32] == 1) and torch.all(first[32:] == -1)
    random = RateRNN(_config(**DALE, e_units="random"), seed=0)
    signs = random.recurrence.sign
    assert int((signs > 0).sum()) == 32 and not torch.all(signs[:32] == 1)
    w = random.recurrence.effective_weight()
    assert torch.all(w[:, signs > 0] >= 0) and torch.all(w[:, signs < 0] <= 0)


def test_a_model_needs_dt_and_sizes_from_its_task():
    with pytest.raises(ValueError, match="dt = None"):
        RateRNN(ModelConfig(n_in=2, n_out=2))
    from rnnbook.tasks import PerceptualDecision, PerceptualDecisionConfig

    task = PerceptualDecision(PerceptualDecisionConfig(dt=10.0, fixation_input=True))
    config = ModelConfig().for_task(task)
    assert (config.n_in, config.n_out, config.dt) == (3, 2, 10.0)
    with pytest.raises(
        ValueError, match=r"ModelConfig.dt = 20.0 disagrees with the task's dt = 10.0"
    ):
        ModelConfig(dt=20.0).for_task(task)


# --- the gate under Dale's law ------------------------------------------------------------------

GATED_DALE = DALE | {"gate": "multiplicative", "sigma_rec": 0.1}


def test_the_gates_recurrent_weights_keep_the_presynaptic_signs_after_optimiser_steps():
    model = RateRNN(_config(**GATED_DALE), seed=1)
    _big_adam_steps(model)
    signed = model.gate.rate_weight * model.recurrence.sign  # [post, pre] times pre's sign
    assert torch.all(signed >= 0) and signed.gt(0).float().mean() > 0.9


def test_without_populations_the_gates_recurrent_weights_stay_free():
    model = RateRNN(_config(gate="multiplicative"), seed=1)
    weight = dict(model.named_parameters())["gate.recurrent.weight"]
    assert torch.equal(model.gate.rate_weight, weight)
    assert (weight > 0).any(axis=1).all() and (weight < 0).any(axis=1).all()


@pytest.fixture(scope="module")
def trained_gated_dale():
    from rnnbook.analysis.evaluation import sample_trials
    from rnnbook.tasks import PerceptualDecision, PerceptualDecisionConfig
    from rnnbook.training import TrainConfig, train

    task = PerceptualDecision(PerceptualDecisionConfig(stimulus_ms=200, decision_ms=100))
    model = RateRNN(ModelConfig(n_rec=32, **GATED_DALE).for_task(task), seed=0)
    easy = task.with_config(coherences=(0.4,))
    train(model, easy, TrainConfig(n_steps=150, batch_size=16, lr=3e-3), progress=False)
    trials = sample_trials(task, 32, seed=1)
    with torch.no_grad():
        states = model.without_noise()(trials.inputs).states
    picked = slice(None, None, 5)  # every fifth (trial, step)
    return model, states.reshape(-1, 32)[picked], trials.inputs.reshape(-1, 2)[picked]


def test_the_effective_coupling_of_a_trained_gated_dale_network_has_the_presynaptic_sign(
    trained_gated_dale,
):
    """d(dx_i/dt)/dr_j = (g_i W_ij + g_i (1 - g_i) W_gr,ij c_i) / tau: the sign of unit j for
    every j, on every unit i whose recurrent current c_i = (W r)_i is not net inhibitory (the
    exception ``models.gating`` states)."""
    model, x, u = trained_gated_dale
    r = model.activation(x)
    jac = torch.func.vmap(torch.func.jacrev(lambda r, x, u: model.velocity(x, u, rates=r)))(
        r, x, u
    )  # [K, N (i), N (j)]
    sign = model.recurrence.sign
    off_diagonal = ~torch.eye(32, dtype=torch.bool)
    current = r @ model.recurrence.effective_weight().T  # [K, N] c_i
    excitable = (current >= 0)[:, :, None] & off_diagonal
    signed = jac * sign  # >= 0 where the coupling has unit j's sign
    assert excitable.float().mean() > 0.5
    assert (signed[excitable] >= -1e-9).all()
    # the direct part g_i W_ij alone has the sign everywhere
    gate = model.gate.current(r, u, torch.ones_like(r))  # g_i: [K, N]
    direct = gate[:, :, None] * model.recurrence.effective_weight() * sign
    assert (direct >= 0).all()
