"""The learning-rate schedule and the restoring of the best weights (seed 004's training):
cosine annealing stepped every ``eval_every`` steps equals torch's ``CosineAnnealingLR`` and its
closed form; ``restore_best`` ends with exactly the weights of the best validation loss."""

import math

import pytest
import torch

import rnnbook as rb
from rnnbook.models import ModelConfig, RateRNN
from rnnbook.training import CosineAnnealing, TrainConfig, train
from rnnbook.training.callbacks import cosine_lr

TASK = rb.ProbabilisticReward(rb.ProbabilisticRewardConfig(n_trials=20))  # soft targets
MODEL = ModelConfig(n_rec=8, activation="tanh", tau=None, leak=0.5).for_task(TASK)
BASE = dict(batch_size=4, loss="soft_cross_entropy", divergence_factor=None)


def closed_form(epoch, lr=1e-3, lr_min=1e-5, t_max=10):
    return lr_min + (lr - lr_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2


class Recorder:
    """After each step: the lr scale of the next step and a copy of the weights; at each
    evaluation: the validation loss and a copy of the weights."""

    def __init__(self):
        self.scales, self.after_step, self.evals = [], {}, []

    def on_train_begin(self, state):
        self.scales.append(state.lr_scale)  # the scale of step 1

    def on_step_end(self, state):
        self.scales.append(state.lr_scale)
        self.after_step[state.step] = snapshot(state.model)

    def on_eval(self, state):
        self.evals.append((state.step, state.eval_loss, snapshot(state.model)))


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_cosine_scale_at_known_epochs_is_the_closed_form():
    config = TrainConfig(n_steps=100, eval_every=10, lr_schedule="cosine", lr_min=1e-5)
    schedule = CosineAnnealing(config)  # T_max = n_steps // eval_every = 10
    assert schedule.t_max == 10
    for epoch, expected in [(0, 1e-3), (5, (1e-3 + 1e-5) / 2), (10, 1e-5)]:
        for step in (10 * epoch, 10 * epoch + 9):  # after these steps, the next is in `epoch`
            assert schedule.scale(step) * 1e-3 == pytest.approx(expected, rel=1e-12)
    for epoch in range(13):  # past T_max too
        assert cosine_lr(epoch, 1e-3, 1e-5, 10) == pytest.approx(closed_form(epoch), rel=1e-12)


def test_cosine_scale_equals_torch_cosine_annealing_stepped_per_epoch():
    config = TrainConfig(n_steps=60, eval_every=4, lr=3e-3, lr_schedule="cosine", lr_min=1e-4)
    schedule = CosineAnnealing(config)
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=3e-3)
    torch_schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=15, eta_min=1e-4)
    for epoch in range(15):
        for step in range(4 * epoch, 4 * epoch + 4):
            lr = schedule.scale(step) * 3e-3
            assert lr == pytest.approx(torch_schedule.get_last_lr()[0], rel=1e-9)
        optimizer.step()
        torch_schedule.step()


def test_training_takes_the_cosine_learning_rate_of_each_epoch():
    config = TrainConfig(
        n_steps=12, eval_every=3, lr_schedule="cosine", lr_min=1e-5, lr_t_max=4, **BASE
    )
    recorder = Recorder()
    train(RateRNN(MODEL, seed=0), TASK, config, seed=0, callbacks=[recorder], progress=False)
    used = recorder.scales[:-1]  # the scale of steps 1 .. 12
    expected = [closed_form(e, t_max=4) / 1e-3 for e in range(4) for _ in range(3)]
    assert used == pytest.approx(expected, rel=1e-12)


def test_an_update_at_a_zero_learning_rate_leaves_the_weights():
    # T_max = 1 and lr_min = 0: the second epoch's learning rate is exactly 0
    config = TrainConfig(
        n_steps=8, eval_every=4, lr_schedule="cosine", lr_t_max=1, weight_decay=1e-3, **BASE
    )
    model, recorder = RateRNN(MODEL, seed=0), Recorder()
    train(model, TASK, config, seed=0, callbacks=[recorder], progress=False)
    first, last = recorder.after_step[4], snapshot(model)
    assert any(not torch.equal(first[k], recorder.after_step[1][k]) for k in first)  # it learnt
    for name in first:
        torch.testing.assert_close(last[name], first[name], rtol=0, atol=0)


class Saboteur:
    """From step ``after`` on, blow up the readout after every step: the validation loss gets
    worse than its best so far."""

    def __init__(self, after):
        self.after = after

    def on_step_end(self, state):
        if state.step >= self.after:
            with torch.no_grad():
                state.model.readout.weight.mul_(3.0)


@pytest.mark.parametrize("restore", [True, False])
def test_restore_best_ends_with_exactly_the_weights_of_the_best_validation_loss(restore):
    config = TrainConfig(n_steps=24, eval_every=2, lr=0.02, restore_best=restore, **BASE)
    model, recorder = RateRNN(MODEL, seed=1), Recorder()
    callbacks = [Saboteur(after=12), recorder]
    history = train(model, TASK, config, seed=0, callbacks=callbacks, progress=False)
    best_step, best_loss, best_weights = min(recorder.evals, key=lambda e: e[1])
    assert best_step <= 12 and history.eval_loss[-1] > best_loss + 0.1  # worse after the best
    final = snapshot(model)
    same = all(torch.equal(final[k], best_weights[k]) for k in final)
    assert same == restore
    # the history's final numbers are those of the weights the model ends with
    assert history.restored_step == (best_step if restore else None)
    assert history.final_loss == (best_loss if restore else history.eval_loss[-1])
    restored = [text for _, text in history.events if text.startswith("restored")]
    assert restored == ([f"restored the weights of step {best_step} "
                         f"(validation loss {best_loss:.4g})"] if restore else [])  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        (dict(lr_schedule="linear"), ["TrainConfig.lr_schedule = 'linear'", "choose one of"]),
        (dict(lr_schedule=None), ["TrainConfig.lr_schedule = None", "choose one of"]),
        (dict(lr_min=-1e-5), ["TrainConfig.lr_min = -1e-05", "allowed [0, TrainConfig.lr"]),
        (dict(lr_min=0.1), ["TrainConfig.lr_min = 0.1", "TrainConfig.lr = 0.001"]),
        (dict(lr_min=math.nan), ["TrainConfig.lr_min = nan", "finite"]),
        (dict(lr_t_max=0), ["TrainConfig.lr_t_max = 0", ">= 1"]),
        (dict(lr_t_max=2.5), ["TrainConfig.lr_t_max = 2.5", "integer"]),
        (dict(restore_best="yes"), ["TrainConfig.restore_best = 'yes'", "want a bool"]),
        (dict(restore_best=1), ["TrainConfig.restore_best = 1", "want a bool"]),
        (
            dict(lr_schedule="cosine", optimizer="eg"),
            ["TrainConfig.lr_schedule = 'cosine'", "TrainConfig.optimizer = 'eg'", "want"],
        ),
        (
            dict(lr_schedule="cosine", lr_plateau_factor=0.5),
            ["TrainConfig.lr_schedule = 'cosine'", "TrainConfig.lr_plateau_factor = 0.5", "want"],
        ),
    ],
)
def test_bad_schedule_values_are_refused_by_name(changes, fragments):
    with pytest.raises(ValueError) as error:
        TrainConfig(**changes)
    assert all(f in str(error.value) for f in fragments), str(error.value)


@pytest.mark.parametrize("make", [rb.lowrank_spec, rb.gru_spec])
def test_seed_004_recipes_anneal_to_1e_5_over_the_epochs_and_restore_the_best(make):
    config = make(n_epochs=7).train_config
    assert (config.lr_schedule, config.lr_min, config.lr_t_max) == ("cosine", 1e-5, 7)
    assert config.restore_best and config.n_steps == 7 * config.eval_every
