"""Seed 000's model and objective (spec 0.2, 0.4; known answers 0.9 items 3, 4, 8): the EIRNN
initialisation and E-only readout, the combined Mod-Cog loss, the fixation-down and row-sum
penalties (a penalty of the effective weights), label smoothing, and the per-step training
accuracy in the History."""

import dataclasses
import json
import math

import pytest
import torch
from torch.nn import functional as F

from rnnbook.models import ModelConfig, RateRNN
from rnnbook.models.init import largest_singular_value, rescale_singular_value
from rnnbook.tasks import (
    PerceptualDecision,
    PerceptualDecisionConfig,
    PulseIntegration,
    PulseIntegrationConfig,
    Trials,
)
from rnnbook.training import LOSSES, PENALTIES, History, Penalty, TrainConfig, train
from rnnbook.training.losses import loss_of
from rnnbook.training.step import accuracy_of, objective

TASK = PerceptualDecision(PerceptualDecisionConfig(stimulus_ms=200.0, coherences=(0.2, 0.4)))
EIRNN = ModelConfig(
    n_rec=40,
    recurrence="dale",
    e_units="random",
    init="eirnn",
    init_norm="singular_value",
    spectral_radius=1.2,
    readout_weights="e_only",
    activation="softplus",
    softplus_beta=10.0,
    tau=None,
    leak=1.0,
)


def _eirnn(n_rec=40, seed=0, **kw):
    return RateRNN(dataclasses.replace(EIRNN, n_rec=n_rec, **kw).for_task(TASK), seed=seed)


# --- model: initialisation, Dale, readout ---


@pytest.mark.parametrize("recurrence", ["dense", "dale", "low_rank"])
def test_largest_singular_value_after_init_is_the_configured_one(recurrence):
    model = _eirnn(recurrence=recurrence, readout_weights="free", init="gaussian", rank=2)
    w = model.recurrence.effective_weight()
    assert largest_singular_value(w) == pytest.approx(1.2, abs=1e-5)
    eirnn = _eirnn(n_rec=256)
    assert largest_singular_value(eirnn.recurrence.effective_weight()) == pytest.approx(
        1.2, abs=1e-5
    )


def test_eirnn_init_has_dale_columns_of_equal_mean_magnitude():
    model = _eirnn(n_rec=256)
    w, sign = model.recurrence.effective_weight().detach(), model.recurrence.sign
    assert int((sign > 0).sum()) == round(0.8 * 256)
    assert not torch.equal(sign, sign.sort(descending=True).values)  # a random permutation
    assert bool(((w * sign) >= 0).all())
    assert torch.equal(torch.sign(w).amax(0), torch.sign(w).amin(0))  # one sign per column
    column_mean = w.abs().mean(0)
    torch.testing.assert_close(column_mean, column_mean.mean().expand(256), rtol=1e-5, atol=0)
    inputs = model.input.effective_weight()
    assert float(inputs.detach().abs().max()) <= (6 / TASK.n_in) ** 0.5  # kaiming-uniform bound


def test_rescale_singular_value_is_a_no_op_within_tol_and_exact_otherwise():
    w = torch.randn(30, 30, generator=torch.Generator().manual_seed(0))
    sigma = largest_singular_value(w)
    for target in (sigma * 0.95, sigma * 1.05, sigma / 1.08, sigma / 0.92):
        assert rescale_singular_value(w, target, tol=0.1) is w
    for target in (sigma * 0.8, sigma * 1.2, 1.2):
        scaled = rescale_singular_value(w, target, tol=0.1)
        assert largest_singular_value(scaled) == pytest.approx(target, rel=1e-5)
        assert torch.equal(scaled.sign(), w.sign())


def test_e_only_readout_reads_excitatory_units_with_free_signs():
    model = _eirnn()
    readout = model.readout.effective_weight().detach()
    e = model.recurrence.sign > 0
    assert bool((readout[:, ~e] == 0).all())
    assert bool((readout[:, e] < 0).any()) and bool((readout[:, e] > 0).any())
    trials = TASK.sample(4, generator=torch.Generator().manual_seed(0))
    rollout = model(trials.inputs, generator=torch.Generator().manual_seed(0))
    w = model.effective_weights()
    expected = (rollout.rates * e) @ w.readout.T + w.readout_bias
    torch.testing.assert_close(rollout.outputs, expected)
    with pytest.raises(ValueError, match="readout_weights = 'e_only'.*recurrence = 'dale'"):
        ModelConfig(readout_weights="e_only")
    with pytest.raises(ValueError, match="init = 'eirnn'.*low_rank"):
        ModelConfig(init="eirnn", recurrence="low_rank")


# --- losses and penalties ---


def _tiny_batch():
    """B = 2, T = 4, three classes; decision on the last two steps; trial 1 padded at t = 3."""
    gen = torch.Generator().manual_seed(3)
    outputs = torch.randn(2, 4, 3, generator=gen)
    targets = torch.tensor([[0, 0, 1, 2], [0, 0, 2, 0]])
    decision = torch.tensor([[False, False, True, True], [False, False, True, False]])
    mask = torch.tensor([[1.0, 1, 1, 1], [1, 1, 1, 0]])
    trials = Trials(
        inputs=torch.zeros(2, 4, 1),
        targets=targets,
        mask=mask,
        periods={"fixation": ~decision & (mask > 0), "decision": decision},
    )
    return outputs, trials


def test_the_modcog_loss_equals_a_hand_computation():
    outputs, trials = _tiny_batch()
    fix_steps = [(0, 0), (0, 1), (1, 0), (1, 1)]  # (1, 3) is padding
    dec_steps = [(0, 2), (0, 3), (1, 2)]
    l_fix = sum(((outputs[b, t] - torch.tensor([1.0, 0, 0])) ** 2).sum() for b, t in fix_steps) / (
        len(fix_steps) * 3
    )
    eps = 0.1
    l_dec = 0.0
    for b, t in dec_steps:
        log_p = torch.log_softmax(outputs[b, t], 0)
        l_dec = l_dec - (1 - eps) * log_p[trials.targets[b, t]] - eps * log_p.mean()
    l_dec = l_dec / len(dec_steps)
    config = TrainConfig(loss="modcog", label_smoothing=eps)
    assert loss_of(config, trials, outputs).item() == pytest.approx(
        (l_fix + l_dec).item(), rel=1e-6
    )
    down = (outputs[0, 2, 0] ** 2 + outputs[0, 3, 0] ** 2 + outputs[1, 2, 0] ** 2) / 3
    penalty = Penalty("fixation_down", 0.5)(trials, _Rollout(outputs), None)
    assert penalty.item() == pytest.approx(0.5 * down.item(), rel=1e-6)
    with pytest.raises(ValueError, match="TrainConfig.loss = 'modcog'.*'decision'"):
        loss_of(config, dataclasses.replace(trials, periods={}), outputs)


class _Rollout:
    def __init__(self, outputs):
        self.outputs = outputs


def test_label_smoothing_is_torch_cross_entropy_label_smoothing():
    outputs, trials = _tiny_batch()
    config = TrainConfig(label_smoothing=0.2)
    valid = trials.mask > 0
    expected = F.cross_entropy(outputs[valid], trials.targets[valid], label_smoothing=0.2)
    assert loss_of(config, trials, outputs).item() == pytest.approx(expected.item(), rel=1e-6)
    assert LOSSES["modcog"].targets == "classes" and LOSSES["modcog"].periods == ("decision",)


def _weights(w):
    return type("W", (), {"recurrent": w})()


def test_the_row_sum_penalty_is_its_closed_form():
    model = _eirnn()
    w, sign = model.recurrence.effective_weight(), model.recurrence.sign
    e, i = sign > 0, sign < 0
    per_sign = (w[:, e].sum(1) ** 2 + w[:, i].sum(1) ** 2).mean()
    net = (w.sum(1) ** 2).mean()
    weights = model.effective_weights()
    row_sum = PENALTIES["row_sum"]
    assert row_sum(None, None, None, weights=weights).item() == pytest.approx(per_sign.item())
    assert row_sum(None, None, None, weights=weights, per_sign=False).item() == pytest.approx(
        net.item()
    )
    balanced = w - w.mean(1, keepdim=True)  # every row sums to zero
    assert row_sum(None, None, None, weights=_weights(balanced), per_sign=False).item() < 1e-10
    assert row_sum(None, None, None, weights=_weights(balanced)).item() > 0  # per sign: not zero
    assert row_sum(None, None, None, weights=_weights(torch.zeros(4, 4))).item() == 0.0
    penalty = Penalty("row_sum", 0.5, per_sign=False)
    assert penalty.needs_weights and not Penalty("rate_l1", 0.1).needs_weights
    assert penalty(None, None, None, weights).item() == pytest.approx(0.5 * net.item())


def test_weight_penalties_are_configured_and_validated():
    cfg = TrainConfig(penalties=[Penalty("row_sum", 0.5, per_sign=False)])
    data = json.loads(json.dumps(dataclasses.asdict(cfg)))
    assert TrainConfig(**data) == cfg and cfg.penalties[0].options == (("per_sign", False),)
    with pytest.raises(ValueError, match=r"option 'per_sign' = 1.0 is not allowed: want True"):
        Penalty("row_sum", 0.5, per_sign=1.0)
    with pytest.raises(ValueError, match=r"option 'weights' is not allowed.*\['per_sign'\]"):
        Penalty("row_sum", 0.5, weights=1.0)
    with pytest.raises(ValueError, match=r"TrainConfig.label_smoothing = 1.5"):
        TrainConfig(label_smoothing=1.5)


def test_the_objective_adds_the_weight_penalty_of_the_model():
    model = _eirnn()
    trials = TASK.sample(8, generator=torch.Generator().manual_seed(0))
    rollout = model(trials.inputs, generator=torch.Generator().manual_seed(1))
    terms = [Penalty("row_sum", 0.5), Penalty("fixation_down", 0.25)]
    config = TrainConfig(loss="modcog", label_smoothing=0.1, penalties=terms)
    weights = model.effective_weights()
    total = objective(config, TASK, trials, rollout, weights)
    parts = loss_of(config, trials, rollout.outputs) + sum(
        p(trials, rollout, TASK, weights) for p in terms
    )
    assert total.item() == pytest.approx(parts.item(), rel=1e-6)
    total.backward()
    assert model.recurrence.weight_raw.grad is not None


def test_training_with_the_modcog_objective_reduces_the_loss():
    model = _eirnn(n_rec=32, leak=0.2)  # the ablations' leak
    config = TrainConfig(
        n_steps=40, batch_size=32, optimizer="eg", lr=1.0, lr_other=0.1, weight_decay=1e-5,
        loss="modcog", label_smoothing=0.1, eval_every=40,
        penalties=[Penalty("fixation_down", 0.5), Penalty("row_sum", 0.5)],
    )  # fmt: skip
    history = train(model, TASK, config, seed=0, progress=False)
    assert sum(history.loss[-10:]) < 0.8 * sum(history.loss[:10])
    assert history.final_accuracy > 0.7


# --- per-step training accuracy ---


def test_history_records_the_training_accuracy_of_every_step():
    model = _eirnn(n_rec=16)
    config = TrainConfig(n_steps=6, batch_size=8, record_accuracy=True)
    history = train(model, TASK, config, progress=False)
    assert len(history.accuracy) == 6 and all(0 <= a <= 1 for a in history.accuracy)
    assert History.from_dict(json.loads(json.dumps(history.to_dict()))) == history
    old = history.to_dict()
    del old["accuracy"]  # a history stored before the field existed
    assert History.from_dict(old).accuracy == []
    pulse = PulseIntegration(
        PulseIntegrationConfig(
            dt=20.0, trial_ms=400.0, onset_ms=(60.0, 100.0), duration_ms=(40.0, 80.0),
            cost_onset_ms=300.0,
        )
    )  # fmt: skip
    regression = RateRNN(ModelConfig(n_rec=8).for_task(pulse), seed=0)
    config = TrainConfig(n_steps=3, batch_size=4, loss="mse")
    assert all(math.isnan(a) for a in train(regression, pulse, config, progress=False).accuracy)


def test_the_task_accuracy_is_used_where_the_task_defines_it():
    trials = TASK.sample(16, generator=torch.Generator().manual_seed(0))
    outputs = torch.randn(16, trials.n_steps, 2, generator=torch.Generator().manual_seed(1))
    correct = TASK.choices(outputs, trials) == TASK.correct_choices(trials)
    assert float(accuracy_of(TASK, outputs, trials)) == pytest.approx(correct.float().mean().item())

    class Scored(PerceptualDecision):
        def accuracy(self, outputs, trials):
            return torch.tensor(0.25)

    assert float(accuracy_of(Scored(TASK.config), outputs, trials)) == 0.25
