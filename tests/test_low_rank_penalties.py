"""Seed 004's loss terms against closed forms: nuclear norm, effective rank (both forms),
spectral loss, response heterogeneity, the soft-target NLL and the regularisation warm-up."""

import math
from types import SimpleNamespace

import pytest
import torch

import rnnbook as rb
from rnnbook.models import ModelConfig, RateRNN, TinyGRU
from rnnbook.models.rates import RATE_FUNCTIONS
from rnnbook.training import LOSSES, PENALTIES, Penalty, TrainConfig, train
from rnnbook.training.soft_targets import masked_soft_cross_entropy
from rnnbook.training.step import objective


def weights_of(w: torch.Tensor, bias=None):
    bias = torch.zeros(len(w), dtype=w.dtype) if bias is None else bias
    return SimpleNamespace(recurrent=w, bias=bias)


def term(name: str, w: torch.Tensor, **options) -> float:
    return float(PENALTIES[name](None, None, None, weights=weights_of(w), **options))


def decaying(n: int, rank: int, gamma: float, *, seed: int = 0) -> torch.Tensor:
    """[n, n] U diag(s) V^T with s_i = 3 e^{-gamma i} for i < rank, 0 after."""
    gen = torch.Generator().manual_seed(seed)
    u, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    s = torch.zeros(n, dtype=torch.float64)
    s[:rank] = 3 * torch.exp(-gamma * torch.arange(rank, dtype=torch.float64))
    return u @ torch.diag(s) @ v.T


@pytest.mark.parametrize("r", [1, 3, 6])
def test_r_equal_singular_values_have_effective_rank_r_and_nuclear_norm_r_times_value(r):
    w = torch.diag(torch.tensor([2.5] * r + [0.0] * (10 - r), dtype=torch.float64))
    assert term("effective_rank", w) == pytest.approx(r)
    assert term("effective_rank", w, sigma=True) == pytest.approx(r)
    assert term("nuclear_norm", w) == pytest.approx(2.5 * r)


@pytest.mark.parametrize(
    ("rank", "gamma", "d_sigma2", "d_sigma"), [(8, 0.2, 4.670, 6.66), (5, 0.4, 2.537, 3.86)]
)
def test_the_target_spectra_have_the_specs_effective_ranks(rank, gamma, d_sigma2, d_sigma):
    s = torch.exp(-gamma * torch.arange(rank, dtype=torch.float64))
    w = torch.diag(torch.cat([s, torch.zeros(32 - rank, dtype=torch.float64)]))
    assert term("effective_rank", w) == pytest.approx(d_sigma2, abs=5e-4)
    assert term("effective_rank", w, sigma=True) == pytest.approx(d_sigma, abs=5e-3)
    assert term("nuclear_norm", w) == pytest.approx(float(s.sum()))


def test_the_spectral_loss_is_zero_on_an_exactly_decaying_spectrum_only():
    exact = decaying(20, 6, 0.3)
    assert term("spectral_target", exact, rank=6, gamma=0.3) == pytest.approx(0.0, abs=1e-20)
    assert term("spectral_target", exact, rank=6, gamma=0.5) > 1e-3
    flat = torch.diag(torch.tensor([1.0] * 6 + [0.0] * 14, dtype=torch.float64))
    assert term("spectral_target", flat, rank=6, gamma=0.3) > 1e-3
    with pytest.raises(ValueError, match="option rank = 30"):
        term("spectral_target", exact, rank=30, gamma=0.3)


def test_the_spectral_loss_is_the_mean_over_the_top_r():
    s = torch.tensor([3.0, 1.0, 0.5, 0.0], dtype=torch.float64)
    t = torch.exp(-0.3 * torch.arange(3.0, dtype=torch.float64))
    t = t * 4.5 / t.sum()
    expected = float(((s[:3] - t) ** 2).mean())
    assert term("spectral_target", torch.diag(s), rank=3, gamma=0.3) == pytest.approx(expected)


def test_heterogeneity_is_zero_for_the_linear_symmetric_case_and_not_otherwise():
    """Spec 4.7 #7: f = identity, W = 0, b = 0, h = 0: every resp_j = alpha * 0.1, H = 0."""
    linear = RATE_FUNCTIONS["linear"]()
    model = SimpleNamespace(alpha=0.1, activation=linear)
    w = weights_of(torch.zeros(6, 6))
    for exact in (False, True):
        rollout = SimpleNamespace(states=torch.zeros(3, 5, 6))
        value = PENALTIES["heterogeneity"](None, rollout, None, weights=w, model=model, exact=exact)
        assert float(value) == pytest.approx(0.0, abs=1e-12)
    responses = rb.models.heterogeneity.unit_responses(torch.zeros(1, 6), w, 0.1, linear)
    torch.testing.assert_close(responses, torch.full((1, 6), 0.01))
    rollout = SimpleNamespace(
        states=torch.randn(3, 5, 6, generator=torch.Generator().manual_seed(0))
    )
    value = PENALTIES["heterogeneity"](None, rollout, None, weights=w, model=model)
    assert float(value) < -1e-6  # -H, and H > 0 once h breaks the symmetry


def test_a_constant_logit_model_has_nll_ln_2_on_any_two_class_soft_target():
    gen = torch.Generator().manual_seed(0)
    p = torch.rand(4, 9, 1, generator=gen)
    targets = torch.cat([p, 1 - p], dim=-1)
    outputs = torch.full((4, 9, 2), 0.7)
    mask = torch.ones(4, 9)
    assert float(masked_soft_cross_entropy(outputs, targets, mask)) == pytest.approx(math.log(2))
    logits = torch.randn(4, 9, 2, generator=gen)
    torch_ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets.transpose(1, 2))
    assert float(LOSSES["soft_cross_entropy"](logits, targets, mask)) == pytest.approx(
        float(torch_ce)
    )
    assert LOSSES["soft_cross_entropy"].targets == "values"


def test_the_warm_up_ramps_a_term_from_zero_at_step_one():
    penalty = Penalty("nuclear_norm", 0.5, warmup_steps=10)
    assert [penalty.ramp(s) for s in (1, 6, 11, 50)] == [0.0, 0.5, 1.0, 1.0]
    assert Penalty("nuclear_norm", 0.5).ramp(1) == 1.0
    task = rb.ReversalLearning(rb.ReversalLearningConfig(n_trials=10))
    model = RateRNN(ModelConfig(n_rec=8, recurrence="low_rank", rank=2).for_task(task), seed=0)
    trials = task.sample(4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        rollout, w = model(trials.inputs), model.effective_weights()
    config = TrainConfig(loss="soft_cross_entropy", penalties=[penalty])
    plain = objective(TrainConfig(loss="soft_cross_entropy"), task, trials, rollout)
    assert float(objective(config, task, trials, rollout, w, step=1)) == float(plain)
    nuclear = float(torch.linalg.svdvals(w.recurrent).sum())
    at_6 = float(objective(config, task, trials, rollout, w, step=6))
    assert at_6 == pytest.approx(float(plain) + 0.25 * nuclear, rel=1e-5)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Penalty("spectral_target", 1.0, rank=2.5), "option 'rank' = 2.5"),
        (lambda: Penalty("spectral_target", 1.0, gamma=-1.0), "option 'gamma' = -1.0"),
        (lambda: Penalty("effective_rank", 1.0, sigma=1.0), "option 'sigma' = 1.0"),
        (lambda: Penalty("nuclear_norm", 1.0, warmup_steps=-2), r"Penalty\.warmup_steps = -2"),
        (lambda: Penalty("nuclear_norm", 1.0, warmup_steps=1.5), r"Penalty\.warmup_steps = 1.5"),
    ],
)
def test_bad_penalty_options_name_the_option(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_the_low_rank_recipe_trains_with_every_term_and_round_trips_through_json(tmp_path):
    spec = rb.lowrank_spec(maturity="mature", n_sessions=20, n_trials=20, n_epochs=3, batch_size=4)
    names = [p.name for p in spec.train_config.penalties]
    assert names == ["nuclear_norm", "effective_rank", "spectral_target", "heterogeneity"]
    assert rb.RunSpec.from_dict(spec.to_dict()) == spec
    run = rb.fit(spec, cache_dir=tmp_path, progress=False)
    assert all(math.isfinite(x) for x in run.history.loss)


def test_a_term_that_reads_the_model_refuses_the_gru():
    task = rb.ReversalLearning(rb.ReversalLearningConfig(n_trials=10))
    model = TinyGRU(ModelConfig(n_rec=3).for_task(task), seed=0)
    config = TrainConfig(
        n_steps=2, loss="soft_cross_entropy", penalties=[Penalty("nuclear_norm", 1.0)]
    )
    with pytest.raises(ValueError, match="needs the network's weights"):
        train(model, task, config, progress=False)
