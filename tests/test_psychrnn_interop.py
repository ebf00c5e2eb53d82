"""rnnbook.interop against PsychRNN 1.0.0 itself: the same trials, the same network, training."""

import math
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination

from rnnbook.analysis import evaluate_on
from rnnbook.interop import (
    PsychRNNPerceptual,
    PsychRNNPerceptualConfig,
    psychrnn_params,
    to_rate_rnn,
    train_psychrnn,
)
from rnnbook.models import ModelConfig
from rnnbook.training import Penalty, TrainConfig

TASK = PsychRNNPerceptual(PsychRNNPerceptualConfig(dt=20.0, trial_ms=600.0))
MODEL = ModelConfig(n_rec=8, tau=100.0)  # n_in, n_out and dt from the task
TRAINING = TrainConfig(n_steps=3, batch_size=8, loss="mse", eval_every=1)


@pytest.mark.parametrize("dt, trial_ms", [(10.0, 2000.0), (20.0, 1000.0), (7.0, 333.0)])
def test_trials_equal_psychrnns_for_the_same_seed(dt, trial_ms):
    task = PsychRNNPerceptual(PsychRNNPerceptualConfig(dt=dt, trial_ms=trial_ms))
    state = np.random.get_state()
    np.random.seed(11)
    reference = PerceptualDiscrimination(dt, 100.0, trial_ms, 32)
    inputs, targets, mask, params = reference.get_trial_batch()
    np.random.set_state(state)
    trials = task.psychrnn_batch(32, 11)
    assert trials.inputs.shape == (32, math.ceil(trial_ms / dt), 2) and trials.dt == dt
    assert torch.equal(trials.inputs, torch.as_tensor(inputs, dtype=torch.float32))
    assert torch.equal(trials.targets, torch.as_tensor(targets, dtype=torch.float32))
    assert torch.equal(trials.mask, torch.as_tensor(mask, dtype=torch.float32))
    signed = [p["coherence"] * (1 if p["direction"] == 1 else -1) for p in params]
    assert np.allclose(trials.conditions["coherence"], signed)
    assert torch.equal(trials.conditions["choice"], torch.tensor([p["direction"] for p in params]))


def test_mask_starts_at_the_end_of_the_stimulus_and_leaves_global_rng_alone():
    state = np.random.get_state()[1].copy()
    trials = TASK.sample(64, generator=torch.Generator().manual_seed(0))
    assert np.array_equal(np.random.get_state()[1], state)
    end = trials.conditions["onset_ms"] + trials.conditions["stimulus_ms"]  # [B]
    responding = trials.times[None, :] >= end[:, None]  # [B, T]
    assert torch.equal(trials.mask, responding[..., None].expand(-1, -1, 2).float())
    levels = trials.conditions["coherence"].abs().numpy()[:, None]  # [B, 1]
    assert np.isclose(levels, [0.1, 0.3, 0.5, 0.7]).any(axis=1).all()


@pytest.mark.parametrize(
    ("model", "train", "field"),
    [
        (dict(gate="multiplicative"), {}, "ModelConfig.gate = 'multiplicative'"),
        (dict(recurrence="dale"), {}, "ModelConfig.recurrence = 'dale'"),
        (dict(recurrence="low_rank"), {}, "ModelConfig.recurrence = 'low_rank'"),
        (dict(tau=(50.0, 200.0)), {}, "ModelConfig.time_constants = 'log_uniform'"),
        (dict(tau=None, leak=0.2), {}, "ModelConfig.time_constants = 'leak'"),
        (dict(input_weights="nonnegative"), {}, "ModelConfig.input_weights = 'nonnegative'"),
        (dict(readout_weights="nonnegative"), {}, "ModelConfig.readout_weights"),
        (dict(sigma_in=0.1), {}, "ModelConfig.sigma_in = 0.1"),
        ({}, dict(loss="cross_entropy"), "TrainConfig.loss = 'cross_entropy'"),
        ({}, dict(weight_decay=1e-4), "TrainConfig.weight_decay"),
        ({}, dict(grad_clip=0.5), "TrainConfig.grad_clip = 0.5"),
        ({}, dict(penalties=Penalty("contrastive_margin", 0.1)), "TrainConfig.penalties"),
        (dict(noise="spike_puregauss", spike_noise_factor=0.1), {}, "ModelConfig.noise"),
        ({}, dict(lr_plateau_factor=0.5), "TrainConfig.lr_plateau_factor = 0.5"),
        ({}, dict(lr_schedule="cosine"), "TrainConfig.lr_schedule = 'cosine'"),
        ({}, dict(restore_best=True), "TrainConfig.restore_best = True"),
        ({}, dict(early_stop_patience=100), "TrainConfig.early_stop_patience = 100"),
    ],
)
def test_unsupported_settings_are_refused_by_name(model, train, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        psychrnn_params(TASK, replace(MODEL, **model), replace(TRAINING, **train))
    psychrnn_params(TASK, MODEL, TRAINING)  # the same configs less that setting are accepted


def test_a_model_dt_other_than_the_tasks_is_refused_naming_both():
    with pytest.raises(ValueError, match=r"ModelConfig\.dt = 10\.0.*dt = 20\.0"):
        psychrnn_params(TASK, replace(MODEL, dt=10.0), TRAINING)
    with pytest.raises(ValueError, match=r"ModelConfig\.n_in = 3.*n_in = 2"):
        psychrnn_params(TASK, replace(MODEL, n_in=3), TRAINING)
    network, _ = psychrnn_params(TASK, replace(MODEL, dt=20.0), TRAINING)
    assert network["dt"] == 20.0 and network["N_in"] == 2 and network["N_out"] == 2


def test_psychrnn_trains_for_real_and_runs_the_same_network_as_rnnbook():
    trials = TASK.sample(20, generator=torch.Generator().manual_seed(1))
    run = train_psychrnn(TASK, MODEL, TRAINING, seed=3, test_trials=trials)
    assert run.weights["W_rec"].shape == (8, 8) and run.weights["W_in"].shape == (8, 2)
    assert all(np.isfinite(w).all() for w in run.weights.values())
    assert len(run.losses) == 3 and all(math.isfinite(x) for x in run.losses)
    assert run.train_s > 0 and run.graph_s > 0 and 0 <= run.accuracy <= 1
    assert run.evaluation.rollout.states.shape == (20, TASK.config.n_steps, 8)
    assert run.accuracy == pytest.approx(run.evaluation.accuracy)  # PsychRNN's rule is rnnbook's
    assert run.model_config == MODEL.for_task(TASK)  # dt, n_in, n_out filled in
    model, h0 = to_rate_rnn(run.weights, run.model_config)
    outputs = evaluate_on(model, TASK, trials, h0=h0).rollout.outputs
    torch.testing.assert_close(outputs, run.evaluation.rollout.outputs, atol=1e-5, rtol=0)
