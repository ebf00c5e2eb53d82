"""Seed 000's optimisers (spec 0.3, known answers 0.9 items 1-3): exponentiated gradient (``eg``)
on the recurrent weights and momentum gradient descent (``sgd``), on the effective weights of
Dale's ``|raw| * sign`` parametrisation."""

import math

import pytest
import torch

from rnnbook.models import ModelConfig, RateRNN
from rnnbook.tasks import PerceptualDecision, PerceptualDecisionConfig
from rnnbook.training import OPTIMIZERS, TrainConfig, train
from rnnbook.training.config import MAX_LR
from rnnbook.training.optimizers import is_magnitude, is_recurrent

DALE = ModelConfig(n_in=2, n_out=2, n_rec=40, dt=20.0, recurrence="dale", e_units="random")
TASK = PerceptualDecision(PerceptualDecisionConfig(stimulus_ms=200.0, coherences=(0.2, 0.4)))


def _eg(weight: torch.Tensor, name="recurrence.weight", **config):
    """An ``eg`` optimiser of the one [1, ...] parameter ``weight``, no weight decay."""
    return OPTIMIZERS["eg"]([weight], [name], [TrainConfig(optimizer="eg", **config)])


def _model_grads(model, grad_of_effective: torch.Tensor):
    """(effective W, raw gradients) for the loss sum(W * G): dloss/dW = G."""
    w = model.recurrence.effective_weight()
    raw = model.recurrence.weight_raw
    (grad,) = torch.autograd.grad((w * grad_of_effective).sum(), [raw])
    return w.detach(), grad


def test_parameter_roles_come_from_the_names():
    names = [n for n, _ in RateRNN(DALE, seed=0).named_parameters()]
    assert [n for n in names if is_recurrent(n)] == ["recurrence.weight_raw"]
    assert [n for n in names if is_magnitude(n)] == ["recurrence.weight_raw"]


def test_eg_never_flips_a_sign_and_keeps_the_floor():
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(3, 20, 20, generator=gen)  # three members, their own learning rates
    signs = w.sign()
    configs = [
        TrainConfig(optimizer="eg", lr=lr, min_magnitude=1e-6, weight_decay=1e-3)
        for lr in (0.1, 1.0, 30.0)
    ]
    eg = OPTIMIZERS["eg"]([w], ["recurrence.weight"], configs)
    for _ in range(200):
        eg.step([10 * torch.randn(w.shape, generator=gen)], [True, True, True])
        assert torch.equal(w.sign(), signs)
        assert bool((w.abs() >= 1e-6).all()) and bool(torch.isfinite(w).all())
    tiny = (torch.randn(1, 16, 16, generator=gen) * 1e-8).requires_grad_(False)
    tiny_signs = tiny.sign()
    _eg(tiny, lr=1.0, min_magnitude=1e-6).step([torch.ones_like(tiny)], [True])
    assert bool((tiny.abs() >= 1e-6).all()) and torch.equal(tiny.sign(), tiny_signs)


def test_one_eg_step_is_multiplicative_on_a_free_weight():
    gen = torch.Generator().manual_seed(1)
    w, g = torch.randn(1, 8, 8, generator=gen), torch.randn(1, 8, 8, generator=gen)
    g[0, 0] = 0.0  # a weight without gradient
    expected = w * torch.exp(-0.3 * torch.sign(w) * g)
    before = w.clone()
    _eg(w, lr=0.3, min_magnitude=0.0).step([g], [True])
    torch.testing.assert_close(w, expected, rtol=1e-6, atol=0.0)
    assert torch.equal(w[0, 0], before[0, 0])  # zero gradient: unchanged
    small = 1e-4  # for small lr, (w' - w) / w = -lr sign(w) g to first order
    v, g = before.double(), g.double()  # float64: the change is 1e-4 of the weight
    _eg(v, lr=small, min_magnitude=0.0).step([g], [True])
    relative = (v - before) / before
    torch.testing.assert_close(relative, -small * before.sign() * g, rtol=1e-3, atol=1e-12)


def test_eg_on_dale_weights_is_exactly_eg_on_the_effective_weight():
    model = RateRNN(DALE, seed=0)
    raw = model.recurrence.weight_raw
    g_eff = torch.randn(raw.shape, generator=torch.Generator().manual_seed(2))
    g_eff[:, 3] = 0.0  # a column without gradient
    w, g_raw = _model_grads(model, g_eff)
    eta = 0.7
    with torch.no_grad():
        _eg(raw.data[None], name="recurrence.weight_raw", lr=eta).step([g_raw[None]], [True])
    after = model.recurrence.effective_weight().detach()
    assert torch.equal(after, w * torch.exp(-eta * torch.sign(w) * g_eff))
    assert torch.equal(after[:, 3], w[:, 3])
    assert torch.equal(after.sign(), w.sign())


def test_eg_weight_decay_and_momentum_follow_the_spec():
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(1, 6, 6, generator=gen)
    ours = w.clone()
    eg = _eg(ours, lr=0.2, weight_decay=0.1, eg_momentum=0.5, min_magnitude=1e-3)
    buf = torch.zeros_like(w)
    for _ in range(4):
        g = torch.randn(w.shape, generator=gen)
        g_mag = torch.sign(w) * g + 0.1 * w.abs()
        buf = 0.5 * buf + g_mag
        w = w * torch.exp(-0.2 * buf)
        w = torch.sign(w) * w.abs().clamp_min(1e-3)
        eg.step([g], [True])
        torch.testing.assert_close(ours, w, rtol=1e-6, atol=0.0)


def test_sgd_is_torch_sgd_with_momentum():
    gen = torch.Generator().manual_seed(4)
    ours = torch.randn(1, 5, 7, generator=gen)
    theirs = ours[0].clone().requires_grad_()
    reference = torch.optim.SGD([theirs], lr=0.05, momentum=0.9)
    sgd = OPTIMIZERS["sgd"]([ours], ["input.weight"], [TrainConfig(optimizer="sgd", lr=0.05)])
    for _ in range(5):
        grad = torch.randn(5, 7, generator=gen)
        theirs.grad = grad.clone()
        reference.step()
        sgd.step([grad[None]], [True])
        torch.testing.assert_close(ours[0], theirs.detach(), rtol=1e-6, atol=1e-7)


def test_gd_on_dale_raw_weights_is_spec_gd_then_projection_with_momentum():
    """Seed 000's GD step on W (momentum, then weight decay added), then project_EI_
    (W <- |W| * sign), equals our GD on the raw magnitudes, momentum across reflections
    included."""
    model = RateRNN(DALE, seed=0)
    raw = model.recurrence.weight_raw
    sign = model.recurrence.sign
    lr, mu, wd = 0.5, 0.9, 0.01
    config = TrainConfig(optimizer="sgd", lr=lr, momentum=mu, weight_decay=wd)
    sgd = OPTIMIZERS["sgd"]([raw.data[None]], ["recurrence.weight_raw"], [config])
    w = model.recurrence.effective_weight().detach().clone()
    buf, reflected = torch.zeros_like(w), 0
    gen = torch.Generator().manual_seed(5)
    for _ in range(6):
        g_eff = 0.3 * torch.randn(w.shape, generator=gen)
        w_now, g_raw = _model_grads(model, g_eff)
        torch.testing.assert_close(w_now, w, rtol=1e-5, atol=1e-6)
        buf = mu * buf + g_eff
        step = w - lr * (buf + wd * w)
        reflected += int(((step * sign) < 0).sum())
        w = step.abs() * sign  # project_EI_
        with torch.no_grad():
            sgd.step([g_raw[None]], [True])
    torch.testing.assert_close(
        model.recurrence.effective_weight().detach(), w, rtol=1e-5, atol=1e-6
    )
    assert reflected > 50  # the check saw many weights cross zero


def test_gd_training_keeps_dale_populations():
    model = RateRNN(DALE, seed=1)
    config = TrainConfig(n_steps=20, batch_size=16, optimizer="sgd", lr=0.5, eval_every=20)
    train(model, TASK, config, progress=False)
    w = model.recurrence.effective_weight().detach()
    sign = model.recurrence.sign
    assert bool(((w * sign) >= 0).all())
    assert int((sign > 0).sum()) == round(0.8 * DALE.n_rec)
    assert bool((model.recurrence.weight_raw >= 0).all())  # magnitudes stay magnitudes


@pytest.mark.parametrize("optimizer", ["sgd", "eg"])
def test_short_eg_and_gd_training_reduce_the_loss(optimizer):
    cfg = ModelConfig(n_rec=32, recurrence="dale", e_units="random", init="eirnn").for_task(TASK)
    model = RateRNN(cfg, seed=0)
    lr = {"sgd": 0.05, "eg": 0.2}[optimizer]
    config = TrainConfig(
        n_steps=60, batch_size=32, optimizer=optimizer, lr=lr, lr_other=0.05, eval_every=60
    )
    history = train(model, TASK, config, seed=0, progress=False)
    assert sum(history.loss[-10:]) < 0.8 * sum(history.loss[:10])
    assert history.accuracy == []  # TrainConfig.record_accuracy is off by default


@pytest.mark.parametrize("optimizer", ["sgd", "eg"])
def test_the_largest_learning_rate_leaves_finite_parameters(optimizer):
    model = RateRNN(DALE, seed=0)
    config = TrainConfig(
        n_steps=5, batch_size=8, optimizer=optimizer, lr=MAX_LR, grad_clip=None,
        divergence_factor=None, eval_every=100, min_magnitude=0.0,
    )  # fmt: skip
    try:
        train(model, TASK, config, progress=False)
    except Exception as error:  # a DivergenceError on a non-finite loss is fine
        assert type(error).__name__ == "DivergenceError"
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


def test_an_inactive_member_keeps_its_parameters():
    w = torch.randn(2, 4, 4, generator=torch.Generator().manual_seed(6)) * 1e-8
    before = w.clone()
    configs = [TrainConfig(optimizer="eg", lr=1.0)] * 2
    eg = OPTIMIZERS["eg"]([w, w.clone()], ["recurrence.weight", "input.weight"], configs)
    nan = torch.full_like(w, math.nan)
    nan[0] = 1.0
    eg.step([nan, nan.clone()], [True, False])
    assert torch.equal(w[1], before[1])
    assert bool((w[0].abs() >= 1e-6).all())


@pytest.mark.parametrize(
    "field, value",
    [("momentum", 1.0), ("eg_momentum", -0.1), ("lr_other", 0.0), ("min_magnitude", -1e-6)],
)
def test_bad_optimiser_options_name_the_field(field, value):
    with pytest.raises(ValueError, match=rf"TrainConfig.{field} = {value!r}"):
        TrainConfig(**{field: value})
