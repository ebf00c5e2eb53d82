"""Seed 003's training against known answers (``seed003.md`` §3.3, §3.4): the per-item losses
l2 / sqrtl2 / rad / exp, learning-rate reduction on a plateau, early stopping, the noise
curriculum, and a tiny working-memory network whose loss falls."""

import math
import types

import pytest
import torch

from rnnbook.models import ModelConfig, RateRNN
from rnnbook.tasks import DelayedEstimation, DelayedEstimationConfig, PerceptualDecision
from rnnbook.training import LOSSES, LossPlateau, NoiseCurriculum, TrainConfig, train
from rnnbook.training.callbacks import noise_levels
from rnnbook.training.history import History
from rnnbook.training.optimizers import OPTIMIZERS
from rnnbook.training.trainer import SingleNetwork, scaled_step


def pairs(angles, n_steps=4, length=1.0):
    """[B, T, 2M] (cos, sin) of angles [B, M] (or [B, T, M]) at every step."""
    angles = torch.as_tensor(angles, dtype=torch.float32)
    if angles.dim() == 2:
        angles = angles[:, None].expand(-1, n_steps, -1)
    out = torch.stack([angles.cos(), angles.sin()], -1) * length
    return out.flatten(2)


def loss(name, outputs, targets, mask):
    return float(LOSSES[name](outputs, targets, mask))


TARGETS = pairs([[0.3, -2.0]])  # one trial, two slots, four steps
MASK = torch.ones(1, 4, 4)


def test_perfect_reports_give_each_losss_minimum():
    assert loss("l2", TARGETS, TARGETS, MASK) == pytest.approx(0.0, abs=1e-10)
    assert loss("sqrtl2", TARGETS, TARGETS, MASK) == pytest.approx(0.0, abs=0.011)  # eps 1e-12
    assert loss("rad", TARGETS, TARGETS, MASK) == pytest.approx(0.0, abs=1e-3)  # clip 1 - 1e-7
    assert loss("exp", TARGETS, TARGETS, MASK) == pytest.approx(-10.0, abs=1e-2)


@pytest.mark.parametrize("gap", [0.2, 1.0, 2.5])
def test_a_rotated_report_costs_its_angle(gap):
    outputs = pairs([[0.3 + gap, -2.0 + gap]], length=3.0)  # rad ignores the length
    assert loss("rad", outputs, TARGETS, MASK) == pytest.approx(gap, abs=1e-3)
    assert loss("exp", outputs, TARGETS, MASK) == pytest.approx(-10 * math.exp(-3 * gap / math.pi))
    l2 = 9 + 1 - 6 * math.cos(gap)  # |3 e^{i gap} - 1|^2
    assert loss("l2", outputs, TARGETS, MASK) == pytest.approx(l2, rel=1e-5)
    assert loss("sqrtl2", outputs, TARGETS, MASK) == pytest.approx(10 * l2**0.25, rel=1e-5)


def test_rad_averages_unit_vectors_without_renormalising():
    """Steps at +phi and -phi around the target: their mean points at the target but has
    length cos(phi), and seed 003's rad is arccos(cos phi) = phi, not 0."""
    phi = 0.6
    steps = torch.tensor([[[phi, 0.0], [-phi, 0.0], [phi, 0.0], [-phi, 0.0]]])  # [1, T, M]
    outputs = pairs(steps, length=2.0)
    targets = pairs([[0.0, 0.0]])
    assert loss("rad", outputs, targets, MASK) == pytest.approx(phi / 2, abs=1e-3)  # slot 1: 0
    assert loss("l2", outputs, targets, MASK) == pytest.approx(
        ((2 * math.cos(phi) - 1) ** 2 + 1) / 2,
        rel=1e-5,  # slot 1: |2 - 1|^2
    )


def test_absent_slots_and_unmasked_steps_do_not_count_and_trials_weigh_equally():
    targets = pairs([[0.0, 0.0], [0.0, 0.0]])  # [2, 4, 4]
    outputs = torch.zeros_like(targets)  # every present item: l2 error 1
    outputs[0, :, 2:] = 100.0  # trial 0's slot 1 is absent: ignored
    outputs[1, :2] = 50.0  # steps 0, 1 of trial 1 are not judged
    mask = torch.ones(2, 4, 4)
    mask[0, :, 2:] = 0
    mask[1, :2] = 0
    outputs[1, 2:, 2] = 1.0  # trial 1's slot 1 perfect: trial 1's error (1 + 0) / 2
    assert loss("l2", outputs, targets, mask) == pytest.approx((1 + 0.5) / 2)


def test_losses_refuse_odd_outputs_and_keep_gradients_finite_at_a_perfect_report():
    with pytest.raises(ValueError, match="n_out = 3 is odd"):
        LOSSES["l2"](torch.zeros(1, 2, 3), torch.zeros(1, 2, 3), torch.ones(1, 2))
    for name in ("l2", "sqrtl2", "rad", "exp"):
        outputs = TARGETS.clone().requires_grad_()
        LOSSES[name](outputs, TARGETS, MASK).backward()
        assert torch.isfinite(outputs.grad).all(), name
        zeros = torch.zeros_like(TARGETS, requires_grad=True)  # an absent-like silent report
        LOSSES[name](zeros, TARGETS * 0, MASK).backward()
        assert torch.isfinite(zeros.grad).all(), name


def test_noise_levels_are_geometric_from_1e3_to_the_final_level():
    levels = noise_levels(0.05, 5)
    assert levels[0] == pytest.approx(1e-3) and levels[-1] == 0.05
    ratios = [b / a for a, b in zip(levels, levels[1:], strict=False)]
    assert ratios == pytest.approx([50 ** (1 / 4)] * 4)
    assert noise_levels(0.2, 1) == [0.2]


def fake_state(step=0):
    return types.SimpleNamespace(
        step=step, eval_loss=math.nan, lr_scale=1.0, stop=False, history=History(), n_steps=100
    )


def test_plateau_halves_the_learning_rate_then_stops():
    config = TrainConfig(lr_plateau_factor=0.5, lr_plateau_patience=20, early_stop_patience=50)
    plateau, state = LossPlateau(config), fake_state()
    plateau.on_train_begin(state)
    seen = []
    for step, value in zip(range(10, 200, 10), [1.0, 0.9] + [0.95] * 20, strict=False):
        state.step, state.eval_loss = step, value
        plateau.on_eval(state)
        seen.append((step, state.lr_scale, state.stop))
        if state.stop:
            break
    # best at step 20; lr halves at 40 and 60; no better loss for 50 steps: stop at 70
    assert seen[-1] == (70, 0.25, True)
    assert [s for s, scale, _ in seen if scale < 1][0] == 40


def test_noise_curriculum_advances_on_patience_and_restores_the_final_level():
    noise = types.SimpleNamespace(factor=0.05)
    state = fake_state()
    state.model = types.SimpleNamespace(noise=noise)
    curriculum = NoiseCurriculum(3, by_patience=True)
    plateau = LossPlateau(TrainConfig(early_stop_patience=20, lr_plateau_factor=0.5), curriculum)
    curriculum.on_train_begin(state)
    plateau.on_train_begin(state)
    assert noise.factor == pytest.approx(1e-3)
    levels = []
    for step in range(10, 400, 10):
        state.step, state.eval_loss = step, 1.0  # never better after the first
        plateau.on_eval(state)
        levels.append(noise.factor)
        if state.stop:
            break
    assert sorted(set(levels)) == pytest.approx(noise_levels(0.05, 3))
    assert state.stop and state.lr_scale == 1.0  # a new stage starts from the full lr
    curriculum.on_train_end(state)
    assert noise.factor == 0.05


def test_scaled_update_is_adam_at_a_scaled_learning_rate():
    models = [torch.nn.Linear(3, 2) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    steps = []
    for model, lr, scale in ((models[0], 1e-2, 0.25), (models[1], 2.5e-3, 1.0)):
        network = SingleNetwork(model)
        optimizer = OPTIMIZERS["adam"](
            [network.members(p) for p in network.params],
            network.names,
            [TrainConfig(lr=lr, optimizer="adam")],
        )
        for _ in range(3):
            model(torch.ones(4, 3)).pow(2).sum().backward()
            scaled_step(optimizer, network, scale)
            model.zero_grad()
        steps.append([p.detach().clone() for p in model.parameters()])
    for a, b in zip(*steps, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    "changes, fragments",
    [
        ({"lr_plateau_factor": 1.0}, ["TrainConfig.lr_plateau_factor = 1.0", "allowed"]),
        ({"lr_plateau_factor": 0.5, "optimizer": "eg"}, ["lr_plateau_factor = 0.5", "'eg'"]),
        ({"lr_plateau_patience": 0}, ["TrainConfig.lr_plateau_patience = 0", ">= 1"]),
        ({"early_stop_patience": 2.5}, ["TrainConfig.early_stop_patience = 2.5", "integer"]),
        ({"noise_stages": 0}, ["TrainConfig.noise_stages = 0", ">= 1"]),
        ({"loss": "l1"}, ["TrainConfig.loss = 'l1'", "'rad'"]),
    ],
)
def test_bad_training_configs_are_refused_by_name(changes, fragments):
    with pytest.raises(ValueError) as error:
        TrainConfig(**changes)
    assert all(f in str(error.value) for f in fragments), str(error.value)


TASK = DelayedEstimation(
    DelayedEstimationConfig(
        init_ms=20.0,
        stimulus_ms=100.0,
        delay_ms=100.0,
        decode_ms=100.0,
        n_slots=2,
        set_sizes=(1, 2),
    )
)  # 32 steps of 10 ms, 2 slots
MODEL = ModelConfig(
    n_rec=16,
    tau=(50.0, 300.0),
    sort_taus=True,
    recurrence="dale",
    e_frac=0.5,
    activation="saturating",
    input_weights="nonnegative",
    noise="spike_gamma",
    spike_noise_factor=0.05,
)


def test_noise_stages_need_a_model_with_spike_noise():
    model = RateRNN(ModelConfig(n_rec=8).for_task(TASK))
    with pytest.raises(ValueError, match="TrainConfig.noise_stages = 2"):
        train(model, TASK, TrainConfig(n_steps=1, loss="l2", noise_stages=2), progress=False)
    with pytest.raises(ValueError, match="TrainConfig.loss = 'l2' does not fit"):
        model = RateRNN(ModelConfig(n_rec=8).for_task(PerceptualDecision()))
        train(model, PerceptualDecision(), TrainConfig(n_steps=1, loss="l2"), progress=False)


def test_a_tiny_working_memory_network_learns_two_items():
    """16 units, 2 items, gamma spike noise, 40 Adam steps: the validation l2 error falls
    below 0.7, under the 1.0 of a silent report (the network reports the angles)."""
    model = RateRNN(MODEL.for_task(TASK), seed=0)
    config = TrainConfig(
        n_steps=40, batch_size=32, lr=1e-2, loss="l2", eval_every=10, eval_batch_size=64
    )
    history = train(model, TASK, config, seed=0, progress=False)
    assert history.eval_loss[-1] < 0.7 and history.eval_loss[-1] < history.eval_loss[1]


def test_curriculum_and_plateaus_run_in_training_and_leave_the_models_noise():
    model = RateRNN(MODEL.for_task(TASK), seed=0)
    config = TrainConfig(
        n_steps=30,
        batch_size=16,
        lr=1e-2,
        loss="rad",
        eval_every=5,
        eval_batch_size=16,
        noise_stages=3,
        lr_plateau_factor=0.5,
        lr_plateau_patience=5,
    )
    history = train(model, TASK, config, seed=0, progress=False)
    stages = [(step, text) for step, text in history.events if "spike_noise_factor" in text]
    assert [step for step, _ in stages] == [0, 10, 20]  # equal stages without early stopping
    assert stages[0][1] == "spike_noise_factor = 0.001"
    assert model.noise.factor == 0.05 and history.n_steps == 30
