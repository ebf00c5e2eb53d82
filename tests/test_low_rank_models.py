"""Seed 004's models: the low-rank recurrence with its SV-decay initialisation, the premature
and mature recipes, and the tiny GRU trained and cached as any run."""

import dataclasses
import math

import pytest
import torch

import rnnbook as rb
from rnnbook.models import ModelConfig, RateRNN, TinyGRU
from rnnbook.models.low_rank import sv_decay_profile
from rnnbook.recipes import MATURITY
from rnnbook.training import TrainConfig, train

SMALL = dict(n_sessions=20, n_trials=30, n_epochs=2, batch_size=4)


def numerical_rank(weight: torch.Tensor) -> int:
    s = torch.linalg.svdvals(weight.detach().double())
    return int((s > 1e-5 * s[0]).sum())


@pytest.mark.parametrize("maturity", sorted(MATURITY))
def test_rank_is_at_most_r_plus_1_at_init_and_after_training(maturity):
    spec = rb.lowrank_spec(maturity=maturity, seed=3, **SMALL)
    model = RateRNN(spec.resolved_model_config, seed=spec.seed)
    r = MATURITY[maturity]["rank"]
    assert spec.model_config.rank == r
    assert numerical_rank(model.effective_weights().recurrent) == r + 1  # generic factors
    task = rb.make_task(spec.task, spec.task_config)
    config = dataclasses.replace(spec.train_config, n_steps=6, lr=0.05, eval_every=6)
    history = train(model, task, config, seed=0, progress=False)
    assert all(math.isfinite(loss) for loss in history.loss)
    assert numerical_rank(model.effective_weights().recurrent) <= r + 1


def test_sv_decay_scales_column_i_of_m_and_n_by_sqrt_t_i():
    base = dict(n_in=3, n_out=2, dt=1.0, n_rec=16, recurrence="low_rank", rank=5)
    base |= dict(init="brain_inspired", activation="tanh", tau=None, leak=0.1)
    flat = RateRNN(ModelConfig(**base), seed=1).recurrence
    decayed = RateRNN(ModelConfig(**base, sv_decay=0.4), seed=1).recurrence
    root = torch.exp(-0.4 * torch.arange(5.0))
    root = (root * 5 / root.sum()).sqrt()
    torch.testing.assert_close(decayed.M, flat.M * root)
    torch.testing.assert_close(decayed.N, flat.N * root)
    torch.testing.assert_close(decayed.m, flat.m)
    assert float(flat.M.detach().std()) == pytest.approx(0.1, rel=0.2)  # N(0, 0.1^2), not rescaled
    assert float(sv_decay_profile(8, 0.2).sum()) == pytest.approx(8.0)


def test_sv_decay_zero_leaves_the_gaussian_low_rank_init_unchanged():
    config = ModelConfig(n_in=2, n_out=2, dt=10.0, n_rec=12, recurrence="low_rank", rank=3)
    a = RateRNN(config, seed=0).effective_weights().recurrent
    assert rb.analysis.recurrent_spectrum(a).numerical_rank == 4
    assert float(torch.linalg.eigvals(a.detach().double()).abs().max()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (dict(sv_decay=0.3), "ModelConfig.sv_decay"),
        (dict(sv_decay=-1.0), "ModelConfig.sv_decay"),
        (dict(init="brain_inspired"), "ModelConfig.init"),
        (dict(recurrence="low_rank", init="brain_inspired", spectral_radius=2.0),
         "ModelConfig.spectral_radius"),
    ],
)  # fmt: skip
def test_bad_low_rank_settings_name_the_field(changes, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        ModelConfig(n_rec=8, **changes)


def test_the_gru_returns_a_rollout_and_refuses_parts_it_has_not():
    config = ModelConfig(n_in=3, n_out=2, dt=1.0, n_rec=4)
    model = TinyGRU(config, seed=0)
    rollout = model(torch.rand(5, 7, 3))
    assert rollout.outputs.shape == (5, 7, 2) and rollout.states.shape == (5, 7, 4)
    assert rollout.rates is rollout.states
    spec = rb.gru_spec(**SMALL)
    with pytest.raises(ValueError, match=r"ModelConfig\.recurrence = 'low_rank'"):
        dataclasses.replace(spec, model_config=ModelConfig(n_rec=4, recurrence="low_rank"))


def test_a_tiny_gru_learns_reversal_learning():
    task = rb.ReversalLearning(rb.ReversalLearningConfig(n_trials=40))
    model = TinyGRU(ModelConfig(n_rec=4).for_task(task), seed=0)
    config = TrainConfig(
        n_steps=40, batch_size=8, lr=0.02, loss="soft_cross_entropy", eval_every=40
    )
    history = train(model, task, config, seed=0, progress=False)
    first, last = sum(history.loss[:5]) / 5, sum(history.loss[-5:]) / 5
    assert last < first - 0.05, (first, last)
    assert history.eval_loss[-1] < history.eval_loss[0]


def test_a_cached_gru_run_reloads_identically(tmp_path):
    spec = rb.gru_spec(task="two_stage", seed=2, **SMALL)
    run = rb.fit(spec, cache_dir=tmp_path, progress=False)
    again = rb.fit(spec, cache_dir=tmp_path, progress=False)
    assert not run.cached and again.cached and isinstance(again.model, TinyGRU)
    inputs = torch.rand(3, 10, 3)
    torch.testing.assert_close(
        again.model(inputs).outputs, run.model(inputs).outputs, rtol=0, atol=0
    )
    assert again.history.loss == run.history.loss
