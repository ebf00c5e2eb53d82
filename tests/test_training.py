"""Trainer: reproducibility, divergence handling, curriculum and early stopping."""

import math

import pytest
import torch

from rnnbook.models import ModelConfig, RateRNN
from rnnbook.tasks import PerceptualDecision, PerceptualDecisionConfig
from rnnbook.training import (
    Curriculum,
    CurriculumConfig,
    DivergenceError,
    History,
    TrainConfig,
    TrainState,
    masked_cross_entropy,
    masked_mse,
    train,
)

TASK = PerceptualDecision(PerceptualDecisionConfig(stimulus_ms=200, decision_ms=100))
MODEL = ModelConfig(n_in=2, n_out=2, n_rec=24, sigma_rec=0.1, dale=True, gating=True)


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
    from rnnbook.training.losses import centroid_margin_penalty, class_centroids

    states = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0], [0.0, 5.0]])
    labels = torch.tensor([0, 0, 1, 1])
    torch.testing.assert_close(class_centroids(states, labels), torch.tensor([[1.0, 0], [0, 4]]))
    distance = 17**0.5
    assert centroid_margin_penalty(states, labels, 5.0).item() == pytest.approx(5 - distance)
    assert centroid_margin_penalty(states, labels, 4.0).item() == 0.0  # far enough apart
    assert centroid_margin_penalty(states, torch.zeros(4, dtype=torch.long), 5.0).item() == 0.0


def test_contrastive_training_separates_the_class_centroids():
    from rnnbook.analysis import evaluate
    from rnnbook.training.losses import class_centroids

    task = PerceptualDecision(PerceptualDecisionConfig(coherences=(0.4,)))
    separation = {}
    for weight in (0.0, 1.0):
        model = RateRNN(ModelConfig(n_in=2, n_out=2, n_rec=16), seed=0)
        cfg = TrainConfig(
            n_steps=60, eval_every=60, contrastive_weight=weight, contrastive_margin=20.0
        )
        history = train(model, task, cfg, seed=0, progress=False)
        ev = evaluate(model, task, 256)
        mu = class_centroids(ev.rollout.rates[:, -1], task.correct_choices(ev.trials))
        separation[weight] = (mu[0] - mu[1]).norm().item()
        assert set(history.param_grad_norm) == {n for n, _ in model.named_parameters()}
        assert len(history.param_grad_norm["recurrence.weight"]) == 60
    assert separation[1.0] > 1.5 * separation[0.0]


def test_bad_contrastive_settings_name_the_field():
    with pytest.raises(ValueError, match="contrastive_weight"):
        TrainConfig(contrastive_weight=-1.0)
    with pytest.raises(ValueError, match="contrastive_margin"):
        TrainConfig(contrastive_margin=0.0)
