"""Seed 000's page helpers (rnnbook.ei_studies): the ablation variants differ from the control in
one factor each; the attribution loss is the training loss with the credit runs' weights; the
group comparisons detect a clear difference, not a null one, and need two networks a group."""

import numpy as np
import pandas as pd
import pytest
import torch

import rnnbook as rb
from rnnbook.ei_studies import (
    ABLATION_FIELDS,
    DETECTED,
    NOT_DETECTED,
    TOO_FEW,
    ablation_variants,
    attribution_loss,
    compare_groups,
    compare_to_control,
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


def test_compare_groups_detects_a_clear_difference_and_not_a_null_one():
    far = compare_groups([1.0, 1.1, 0.9, 1.05], [0.0, 0.1, -0.1, 0.05])
    assert far["reading"] == DETECTED
    assert far["diff"] == pytest.approx(1.0)
    assert far["low"] < 1.0 < far["high"] and far["low"] > 0
    same = compare_groups([0.0, 1.0, 0.5, 0.2], [0.1, 0.9, 0.4, 0.3])
    assert same["reading"] == NOT_DETECTED and same["low"] < 0 < same["high"]


def test_compare_groups_does_not_read_two_networks_against_two_as_a_difference():
    out = compare_groups([1.0, 1.1], [0.0, 0.1])  # bootstrap interval excludes 0, p >= 1/3
    assert out["low"] > 0 and out["p_value"] > 0.3
    assert out["reading"] == NOT_DETECTED


def test_compare_groups_needs_two_finite_values_per_group():
    out = compare_groups([1.0, float("inf")], [0.0, 0.5])
    assert out["reading"] == TOO_FEW and out["n_a"] == 1
    assert all(np.isnan(out[k]) for k in ("diff", "low", "high", "p_value"))


def test_compare_to_control_compares_within_each_group_with_holm_adjustment():
    rows = []
    for opt, shift in [("EG", 1.0), ("GD", 0.0)]:
        for seed in range(6):
            rows.append(("EG" if opt == "EG" else "GD", "control", seed, 0.1 * seed))
            rows.append((opt, "big", seed, 0.1 * seed + 5.0 * shift))
    table = pd.DataFrame(rows, columns=["optimizer", "variant", "seed", "acc"]).assign(
        status="finished"
    )
    out = compare_to_control(table, "acc", variant="variant", group="optimizer")
    assert list(out.index) == [("EG", "big"), ("GD", "big")]
    assert out.loc[("EG", "big"), "diff"] == pytest.approx(5.0)
    assert out.loc[("EG", "big"), "reading"] == DETECTED
    assert out.loc[("GD", "big"), "reading"] == NOT_DETECTED
    assert (out.p_holm >= out.p_value).all()
