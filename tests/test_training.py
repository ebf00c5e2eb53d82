"""Trainer: reproducibility, divergence handling, curriculum and early stopping."""

import math

import pytest
import torch

from rnnbook.models import ModelConfig, RateRNN
from rnnbook.tasks import PerceptualDecision, PerceptualDecisionConfig
from rnnbook.training import (
    OPTIMIZERS,
    PENALTIES,
    Curriculum,
    CurriculumConfig,
    DivergenceError,
    History,
    Penalty,
    TrainConfig,
    TrainState,
    masked_cross_entropy,
    masked_mse,
    train,
)
from rnnbook.training.penalties import centroid_margin

TASK = PerceptualDecision(PerceptualDecisionConfig(stimulus_ms=200, decision_ms=100))
MODEL = ModelConfig(
    n_rec=24,
    sigma_rec=0.1,
    recurrence="dale",
    input_weights="nonnegative",
    readout_weights="nonnegative",
    gate="multiplicative",
).for_task(TASK)


def _train(seed, n_steps=8, **kw):
    model = RateRNN(MODEL, seed=seed)
    history = train(
        model,
        TASK,
        TrainConfig(n_steps=n_steps, batch_size=16, eval_every=4, **kw),
        seed=seed,
        progress=False,
    )
    return model, history


def test_same_seed_gives_identical_losses_twice():
    _, a = _train(seed=7)
    _, b = _train(seed=7)
    _, c = _train(seed=8)
    assert a.loss == b.loss and a.eval_accuracy == b.eval_accuracy
    assert a.loss != c.loss


def test_training_learns_an_easy_discrimination():
    model = RateRNN(MODEL, seed=0)
    easy = TASK.with_config(coherences=(0.4,))
    history = train(model, easy, TrainConfig(n_steps=120, batch_size=16, lr=3e-3), progress=False)
    assert sum(history.loss[-20:]) / 20 < 0.5 * sum(history.loss[:20]) / 20
    assert history.final_accuracy > 0.9


def test_masked_losses_ignore_unmasked_steps():
    outputs = torch.randn(3, 5, 2)
    targets = torch.randint(2, (3, 5))
    mask = torch.zeros(3, 5)
    mask[:, -1] = 1
    changed = outputs.clone()
    changed[:, :-1] = 100.0  # garbage where the mask is zero
    assert masked_cross_entropy(outputs, targets, mask) == masked_cross_entropy(
        changed, targets, mask
    )
    expected = torch.nn.functional.cross_entropy(outputs[:, -1], targets[:, -1])
    assert masked_cross_entropy(outputs, targets, mask) == pytest.approx(expected.item())
    y = torch.zeros(3, 5, 2)
    assert masked_mse(torch.ones(3, 5, 2), y, mask) == pytest.approx(1.0)


def test_divergence_names_the_step_and_keeps_the_last_good_parameters():
    model = RateRNN(MODEL, seed=0)
    with torch.no_grad():
        model.readout_bias.fill_(math.nan)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(DivergenceError, match="step 1"):
        train(model, TASK, TrainConfig(n_steps=3, batch_size=4), progress=False)
    for p, q in zip(before, model.parameters(), strict=True):
        assert torch.equal(p, q) or (p.isnan().all() and q.isnan().all())


def test_curriculum_lowers_the_level_when_accuracy_passes_the_threshold():
    cfg = CurriculumConfig(start=0.5, end=0.3, step=0.1, threshold=0.8, every=10)
    assert cfg.levels() == [0.5, 0.4, 0.3]
    curriculum = Curriculum(cfg)
    state = TrainState(model=None, task=TASK, n_steps=100, history=History())
    curriculum.on_train_begin(state)
    assert state.task.config.coherences == (0.5,)
    for step, accuracy, level in [(10, 0.7, 0.5), (20, 0.81, 0.4), (25, 0.99, 0.4), (30, 0.9, 0.3)]:
        state.step, state.eval_accuracy = step, accuracy
        curriculum.on_eval(state)
        assert state.task.config.coherences == (level,)
    state.step, state.eval_accuracy = 40, 0.95
    curriculum.on_eval(state)
    assert curriculum.done and state.task.config.coherences == (0.3,)
    assert [e[1] for e in state.history.events] == [
        "coherences = 0.5",
        "coherences = 0.4",
        "coherences = 0.3",
    ]


def test_early_stopping_stops_at_the_target_accuracy():
    _, history = _train(seed=0, n_steps=400, lr=3e-3, target_accuracy=0.6)
    assert history.n_steps < 400
    assert history.eval_accuracy[-1] >= 0.6
    assert history.events[-1][1].startswith("stopped")


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"n_steps": 0}, "n_steps"),
        ({"loss": "hinge"}, "loss"),
        ({"target_accuracy": 2.0}, "target_accuracy"),
        ({"lr": -1.0}, "lr"),
    ],
)
def test_bad_train_config_names_the_field(kw, field):
    with pytest.raises(ValueError, match=field):
        TrainConfig(**kw)


def test_curriculum_config_from_a_dict_is_validated():
    cfg = TrainConfig(curriculum={"start": 1.0, "end": 0.2})
    assert isinstance(cfg.curriculum, CurriculumConfig)
    with pytest.raises(ValueError, match="end"):
        CurriculumConfig(start=0.2, end=0.5)


def test_centroid_margin_penalty_is_the_hinge_on_the_class_centroid_distance():
    from rnnbook.tensors import class_centroids

    centroid_margin_penalty = centroid_margin
    states = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0], [0.0, 5.0]])
    labels = torch.tensor([0, 0, 1, 1])
    torch.testing.assert_close(class_centroids(states, labels), torch.tensor([[1.0, 0], [0, 4]]))
    distance = 17**0.5
    assert centroid_margin_penalty(states, labels, 5.0).item() == pytest.approx(5 - distance)
    assert centroid_margin_penalty(states, labels, 4.0).item() == 0.0  # far enough apart
    assert centroid_margin_penalty(states, torch.zeros(4, dtype=torch.long), 5.0).item() == 0.0


def test_contrastive_training_separates_the_class_centroids():
    from rnnbook.analysis import evaluate
    from rnnbook.tensors import class_centroids

    task = PerceptualDecision(PerceptualDecisionConfig(coherences=(0.4,)))
    separation = {}
    for weight in (0.0, 1.0):
        model = RateRNN(ModelConfig(n_rec=16).for_task(task), seed=0)
        penalty = Penalty("contrastive_margin", weight, margin=20.0)
        cfg = TrainConfig(n_steps=60, eval_every=60, penalties=[penalty])
        history = train(model, task, cfg, seed=0, progress=False)
        ev = evaluate(model, task, 256)
        mu = class_centroids(ev.rollout.rates[:, -1], task.correct_choices(ev.trials))
        separation[weight] = (mu[0] - mu[1]).norm().item()
        assert set(history.param_grad_norm) == {n for n, _ in model.named_parameters()}
        assert len(history.param_grad_norm["recurrence.weight"]) == 60
    assert separation[1.0] > 1.5 * separation[0.0]


def test_bad_penalty_and_optimizer_settings_name_the_field():
    with pytest.raises(ValueError, match=r"Penalty.weight = -1.0"):
        TrainConfig(penalties=[Penalty("contrastive_margin", -1.0)])
    with pytest.raises(ValueError, match=r"Penalty.name = 'l3'.*contrastive_margin"):
        Penalty("l3", 1.0)
    with pytest.raises(ValueError, match=r"option 'width' is not allowed.*\['margin'\]"):
        Penalty("contrastive_margin", 1.0, width=2.0)
    with pytest.raises(ValueError, match=r"TrainConfig.optimizer = 'lbfgs'.*adam"):
        TrainConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match=r"TrainConfig.batch_size = 4.5.*integer"):
        TrainConfig(batch_size=4.5)


def test_penalties_round_trip_through_the_dict_form_of_a_config():
    import dataclasses
    import json

    cfg = TrainConfig(penalties=[Penalty("contrastive_margin", 0.1, margin=6.0)])
    data = json.loads(json.dumps(dataclasses.asdict(cfg)))
    assert TrainConfig(**data) == cfg
    assert cfg.penalties[0].options == (("margin", 6.0),)


def test_the_loss_is_the_task_loss_plus_each_weighted_penalty():
    from rnnbook.training.step import objective

    model = RateRNN(MODEL, seed=0)
    trials = TASK.sample(32, generator=torch.Generator().manual_seed(0))
    rollout = model(trials.inputs, generator=torch.Generator().manual_seed(1))
    plain = objective(TrainConfig(), TASK, trials, rollout)
    terms = [Penalty("rate_l1", 0.5), Penalty("contrastive_margin", 2.0, margin=50.0)]
    total = objective(TrainConfig(penalties=terms), TASK, trials, rollout)
    l1 = rollout.rates.abs().mean()
    margin = PENALTIES["contrastive_margin"](trials, rollout, TASK, margin=50.0)
    assert plain.item() == pytest.approx(
        masked_cross_entropy(rollout.outputs, trials.targets, trials.mask).item()
    )
    assert total.item() == pytest.approx((plain + 0.5 * l1 + 2.0 * margin).item(), rel=1e-6)
    assert margin.item() > 0


def test_the_adam_entry_equals_torch_adam():
    gen = torch.Generator().manual_seed(0)
    ours, theirs = (torch.randn(3, 4, generator=gen) for _ in range(2))
    theirs = ours.clone().requires_grad_()
    reference = torch.optim.Adam([theirs], lr=0.01, weight_decay=0.1)
    config = TrainConfig(lr=0.01, weight_decay=0.1)
    adam = OPTIMIZERS["adam"]([ours[None]], ["weight"], [config])
    for _ in range(5):
        grad = torch.randn(3, 4, generator=gen)
        theirs.grad = grad.clone()
        reference.step()
        adam.step([grad[None]], [True])
        torch.testing.assert_close(ours, theirs.detach(), rtol=1e-6, atol=1e-7)
    frozen = ours.clone()
    adam.step([torch.full((1, 3, 4), float("nan"))], [False])  # an inactive member
    assert torch.equal(ours, frozen)
