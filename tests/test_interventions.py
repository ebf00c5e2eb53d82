"""Interventions (lesion, clamp, perturbation, gain) passed as data to the forward pass."""

import math

import pytest
import reference_rnn
import torch
from reference_rnn import PART_CONFIGS, reference_forward

from rnnbook.models import ModelConfig, RateRNN
from rnnbook.models.gated_scan import gated_scan
from rnnbook.models.interventions import Clamp, Gain, Lesion, Perturb, compile_interventions
from rnnbook.models.scan import leaky_scan

DT = 20.0
DALE_GATED = {
    "recurrence": "dale",
    "input_weights": "nonnegative",
    "readout_weights": "nonnegative",
    "gate": "multiplicative",
}


def _model(**kw):
    cfg = dict(n_in=2, n_out=2, n_rec=10, dt=DT, tau=100.0) | kw
    return RateRNN(ModelConfig(**cfg), seed=4)


INTERVENTIONS = [
    Lesion([1, 4]),
    Lesion([0, 9], start_ms=100.0, stop_ms=200.0),
    Clamp([2, 3], values=[0.5, 1.5], start_ms=60.0),
    Perturb([5], values=2.0, start_ms=40.0, stop_ms=120.0),
    [Lesion([1]), Clamp([1, 2], values=0.7, stop_ms=100.0), Perturb([3, 4], values=-1.0)],
]


@pytest.mark.parametrize("kw", PART_CONFIGS, ids=str)
@pytest.mark.parametrize("intervention", INTERVENTIONS)
def test_forward_and_gradients_equal_the_reference_loop(kw, intervention):
    model = reference_rnn.model(seed=4, **kw)
    inputs, targets = torch.randn(4, 14, 2), torch.randn(4, 14, 2)
    rollout = model(inputs, intervention=intervention, generator=torch.Generator().manual_seed(5))
    fast = torch.autograd.grad(((rollout.outputs - targets) ** 2).mean(), list(model.parameters()))
    states, _, outputs = reference_forward(model, inputs, seed=5, intervention=intervention)
    reference = torch.autograd.grad(((outputs - targets) ** 2).mean(), list(model.parameters()))
    torch.testing.assert_close(rollout.states, states, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(rollout.outputs, outputs, rtol=1e-5, atol=1e-6)
    for a, b in zip(fast, reference, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_a_lesioned_unit_sends_nothing_and_a_clamped_one_sends_its_value():
    model = _model()
    inputs = torch.randn(3, 20, 2)
    lesioned = model(inputs, intervention=Lesion([3], start_ms=100.0))
    times = torch.arange(20) * DT
    assert torch.all(lesioned.rates[:, times >= 100, 3] == 0)
    assert torch.any(lesioned.rates[:, times < 100, 3] != 0)
    clamped = model(inputs, intervention=Clamp([3, 6], values=[0.25, 2.0]))
    assert torch.all(clamped.rates[..., 3] == 0.25) and torch.all(clamped.rates[..., 6] == 2.0)
    # silencing a unit equals deleting its outgoing weights (recurrent and readout)
    with torch.no_grad():
        cut = _model()
        cut.recurrence.weight[:, 3] = 0.0
        cut.readout.weight[:, 3] = 0.0
    whole = model(inputs, intervention=Lesion([3]))
    torch.testing.assert_close(whole.outputs, cut(inputs).outputs, rtol=1e-5, atol=1e-6)


def test_interventions_leave_the_model_unchanged_and_default_to_none():
    model = _model(**DALE_GATED)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    inputs = torch.randn(2, 10, 2)
    plain = model(inputs)
    model(inputs, intervention=[Lesion([0, 1]), Clamp([2], values=1.0), Perturb([3], values=1.0)])
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    torch.testing.assert_close(model(inputs).outputs, plain.outputs, rtol=0, atol=0)
    unit_gain = model(inputs, intervention=Gain(torch.ones(10)))
    torch.testing.assert_close(unit_gain.outputs, plain.outputs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("gated", [False, True])
def test_gain_gradient_matches_finite_differences(gated):
    model = _model(**(DALE_GATED if gated else {}), activation="tanh").double()
    inputs = torch.randn(3, 12, 2, dtype=torch.float64)
    gains = torch.ones(10, dtype=torch.float64, requires_grad=True)

    def margin(g):
        out = model(inputs, intervention=Gain(g, start_ms=40.0)).outputs
        return (out[:, -1, 1] - out[:, -1, 0]).mean()

    (grad,) = torch.autograd.grad(margin(gains), gains)
    eps = 1e-6
    for unit in (0, 4, 9):
        up, down = gains.detach().clone(), gains.detach().clone()
        up[unit] += eps
        down[unit] -= eps
        numeric = (margin(up) - margin(down)) / (2 * eps)
        assert grad[unit].item() == pytest.approx(numeric.item(), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_scans_with_rate_edits_pass_gradcheck(activation):
    gen = torch.Generator().manual_seed(1)
    t, b, n = 5, 3, 4

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    drive, x0, w_t, wg_t, gate = (
        rand(t, b, n),
        rand(b, n),
        rand(n, n) * 0.5,
        rand(n, n),
        rand(t, b, n),
    )
    # rate edits of r_0 .. r_T: T + 1 rows
    keep = (torch.rand(t + 1, n, generator=gen, dtype=torch.float64) + 0.5).requires_grad_()
    value = (rand(t + 1, n) * 0.1).requires_grad_()
    args = [a.requires_grad_() for a in (drive, x0, w_t)]
    assert torch.autograd.gradcheck(
        lambda d, x, w, k, v: leaky_scan(d, x, w, 0.3, activation, k, v), (*args, keep, value)
    )
    assert torch.autograd.gradcheck(
        lambda d, g, x, w, wg, k, v: gated_scan(d, g, x, w, wg, 0.3, activation, k, v),
        (drive, gate.requires_grad_(), x0, w_t, wg_t.requires_grad_(), keep, value),
    )


def test_windows_follow_trial_time_in_ms():
    edits = compile_interventions(Lesion([2], start_ms=40.0, stop_ms=100.0), 8, 5, DT)
    assert edits.keep[:, 2].tolist() == [1, 1, 0, 0, 0, 1, 1, 1]  # steps at 40, 60, 80 ms
    assert torch.all(edits.keep[:, [0, 1, 3, 4]] == 1) and torch.all(edits.value == 0)
    assert edits.current is None
    assert compile_interventions(None, 8, 5, DT).keep is None


@pytest.mark.parametrize(
    "bad, message",
    [
        (Lesion([10]), r"Lesion.units = \[10\] is out of range: allowed unit indices are 0 .. 9"),
        (Clamp([1, 2], values=[1.0, 2.0, 3.0]), "3 entries for 2 units"),
        ("lesion", "not one of Lesion, Clamp, Perturb, Gain"),
    ],
)
def test_bad_interventions_are_refused_with_a_clear_message(bad, message):
    with pytest.raises((ValueError, TypeError), match=message):
        _model()(torch.randn(1, 5, 2), intervention=bad)


def test_an_empty_window_is_refused():
    with pytest.raises(ValueError, match=r"Lesion.stop_ms = 10.0 is not after start_ms = 20.0"):
        Lesion([0], start_ms=20.0, stop_ms=10.0)
    assert Lesion([0]).stop_ms == math.inf


def test_values_are_the_second_positional_field_and_windows_are_keywords():
    assert Clamp([1], 0.5).values == 0.5 and Perturb([1], 2.0).values == 2.0
    with pytest.raises(TypeError):
        Lesion([1], 20.0)
