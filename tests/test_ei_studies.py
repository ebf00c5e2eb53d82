"""Seed 000's page helpers (rnnbook.ei_studies): the ablation variants differ from the control in
one factor each; the attribution loss is the training loss with the credit runs' weights."""

import pytest
import torch

import rnnbook as rb
from rnnbook.ei_studies import (
    ABLATION_FIELDS,
    ablation_variants,
    attribution_loss,
    fixed_points_by_input,
    full_length_trials,
)
from rnnbook.training.losses import loss_of
from rnnbook.training.penalties import fixation_down


def test_each_ablation_variant_changes_one_factor_of_the_control():
    penalties = rb.modcog_spec(row_sum_weight=0.5).train_config.penalties
    variants = ablation_variants(0.9, [0.2, 1.0], penalties)
    assert list(variants) == [
        "control",
        "leak 0.2",
        "leak 1",
        "tanh",
        "E-only readout",
        "no row-sum",
    ]
    control = variants["control"]
    assert control == (0.9, "softplus", "free", penalties) and len(ABLATION_FIELDS) == 4
    for name, value in variants.items():
        changed = [
            field for field, a, b in zip(ABLATION_FIELDS, value, control, strict=True) if a != b
        ]
        assert len(changed) == (name != "control"), name
    assert [p.name for p in variants["no row-sum"][3]] == ["fixation_down"]
    with pytest.raises(ValueError, match="row_sum"):
        ablation_variants(0.9, [0.2], penalties[:1])


def test_the_attribution_loss_is_the_modcog_loss_plus_the_weighted_fixation_term():
    spec = rb.modcog_spec(n_rec=8, label_smoothing=0.1)
    task = rb.ModCog(spec.task_config)
    trials = full_length_trials(task.sample(64, generator=torch.Generator().manual_seed(0)), 16)
    assert (trials.mask > 0).all() and trials.batch_size <= 16
    outputs = torch.randn(
        *trials.targets.shape, task.n_out, generator=torch.Generator().manual_seed(1)
    )
    rollout = rb.Rollout(outputs, torch.zeros(1), torch.zeros(1))
    expected = loss_of(spec.train_config, trials, outputs) + 0.05 * fixation_down(
        trials, rollout, task
    )
    loss = attribution_loss(trials, label_smoothing=0.1, fixdown_weight=0.05)
    assert float(loss(outputs, None)) == pytest.approx(float(expected), rel=1e-6)


def test_fixed_points_by_input_searches_each_input():
    config = rb.ModelConfig(n_in=2, n_out=1, n_rec=6, dt=10.0, tau=100.0, activation="tanh")
    model = rb.RateRNN(config, seed=0)
    states = torch.randn(4, 5, 6, generator=torch.Generator().manual_seed(2))
    inputs = {"zero": torch.zeros(2), "on": torch.tensor([1.0, 0.0])}
    gen = torch.Generator().manual_seed(3)
    mask = torch.ones(4, 5)
    found = fixed_points_by_input(
        model, states, inputs, n_starts=16, noise=0.1, mask=mask, generator=gen
    )
    assert set(found) == {"zero", "on"}
    for points, stability in found.values():
        assert len(points) >= 1 and len(stability.labels) == len(points)
        assert (points.q < 1e-10).all()
