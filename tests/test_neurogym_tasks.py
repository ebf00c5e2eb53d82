"""The neurogym adapter (rnnbook.tasks.neurogym_tasks) and ``Task.accuracy``.

Known answers: yang19's dm1 has 33 inputs, 17 actions and dt 100 ms; the adapter's trials are
the env's own ``ob`` / ``gt`` of the same seeded trials, aligned at the trial's start and
padded; periods follow the env's ``start_t`` / ``end_t``; the same generator gives the same
trials and another seed others.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings

import numpy as np
import pytest
import torch
from neurogym.envs.collections import yang19

from rnnbook.tasks import (
    NeurogymConfig,
    NeurogymTask,
    PerceptualDecision,
    PerceptualDecisionConfig,
    PulseIntegration,
)
from rnnbook.tasks.env_trials import (
    FrozenDict,
    batch_seed,
    decision_accuracy,
    sample_env,
    seed_env,
)
from rnnbook.validation import config_from_dict


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def dm1() -> NeurogymTask:
    return NeurogymTask()


def test_dm1_sizes_and_dt(dm1):
    assert (dm1.n_in, dm1.n_out, dm1.n_classes, dm1.dt) == (33, 17, 17, 100.0)
    trials = dm1.sample(4, generator=_generator(0))
    assert trials.inputs.shape[2] == 33 and trials.dt == 100.0
    assert dm1.target_kind == "classes" and trials.targets.dtype == torch.long


@pytest.mark.parametrize("make", [yang19.dm1, yang19.go, yang19.dms], ids=["dm1", "go", "dms"])
def test_trials_are_the_envs_own_trials_for_the_same_seed(make):
    batch = 6
    trials = sample_env(make(dt=100), batch, generator=_generator(3))
    seeded = seed_env(make(dt=100), batch_seed(_generator(3)))  # the seed the batch drew
    for b in range(batch):
        seeded.top.new_trial()
        env = seeded.top.unwrapped
        n = env.ob.shape[0]
        assert torch.equal(trials.inputs[b, :n], torch.from_numpy(env.ob))
        assert torch.equal(trials.targets[b, :n], torch.from_numpy(env.gt).long())
        assert torch.all(trials.inputs[b, n:] == 0) and torch.all(trials.mask[b, n:] == 0)
        for name in env.start_t:  # the env's period bounds, step by step
            start, end = int(env.start_t[name] / env.dt), int(env.end_t[name] / env.dt)
            expected = torch.zeros(trials.n_steps, dtype=torch.bool)
            expected[start:end] = True
            assert torch.equal(trials.periods[name][b], expected), name
        in_periods = torch.stack(list(trials.periods.values()))[:, b].sum(0)
        assert torch.all(in_periods[:n] == 1) and torch.all(in_periods[n:] == 0)
        assert torch.equal(trials.mask[b].bool(), trials.periods["decision"][b])


def test_same_generator_same_trials_other_seed_other_trials():
    for env in ("yang19.dm1-v0", "yang19.dms-v0"):
        task = NeurogymTask(NeurogymConfig(env=env))
        first = task.sample(8, generator=_generator(0))
        again = NeurogymTask(NeurogymConfig(env=env)).sample(8, generator=_generator(0))
        other = task.sample(8, generator=_generator(1))
        assert torch.equal(first.inputs, again.inputs)
        assert torch.equal(first.targets, again.targets)
        assert first.conditions.keys() == again.conditions.keys()
        assert all(torch.equal(v, again.conditions[k]) for k, v in first.conditions.items())
        assert not torch.equal(first.inputs[:, :5], other.inputs[:, :5])


def test_conditions_are_the_numbers_of_the_trial_dicts():
    dm1 = NeurogymTask().sample(8, generator=_generator(0)).conditions
    assert set(dm1) == {"theta1", "theta2", "stim_period", "coh1_mod1", "coh2_mod1"}
    assert all(v.shape == (8,) and v.dtype == torch.float32 for v in dm1.values())
    assert torch.allclose(dm1["coh1_mod1"] + dm1["coh2_mod1"], torch.ones(8))
    go = NeurogymTask(NeurogymConfig(env="yang19.go-v0")).sample(8, generator=_generator(0))
    assert go.conditions["ground_truth"].dtype == torch.int64  # anti: a bool, as 0 / 1
    assert torch.all(go.conditions["anti"] == 0)
    dms = NeurogymTask(NeurogymConfig(env="yang19.dms-v0")).sample(8, generator=_generator(0))
    assert "ground_truth" not in dms.conditions  # "match" / "non-match": not a number
    assert {"sample_theta", "test_theta"} <= set(dms.conditions)


def test_the_two_modality_envs_of_a_schedule_draw_their_own_trials_and_start_at_random():
    """yang19's go alternates two modality envs: each is seeded with its own stream, and a
    batch starts with either."""
    firsts = set()
    for seed in range(8):
        trials = sample_env(yang19.go(dt=100), 8, generator=_generator(seed))
        stimulus = trials.periods["stimulus"][:, :, None] & torch.ones(33, dtype=torch.bool)
        ring = (trials.inputs * stimulus).sum(1)[:, 1:]  # [B, 32]: summed stimulus per unit
        modality = (ring[:, 16:].sum(1) > ring[:, :16].sum(1)).long()
        assert torch.all(modality[1:] != modality[:-1])  # alternating
        firsts.add(int(modality[0]))
        truth = trials.conditions["ground_truth"]
        assert not torch.equal(truth[0::2], truth[1::2])  # not the same stream twice
    assert firsts == {0, 1}


def test_loss_on_trial_judges_every_step_of_a_trial():
    trials = NeurogymTask(NeurogymConfig(loss_on="trial")).sample(8, generator=_generator(0))
    covered = torch.stack(list(trials.periods.values())).any(0)
    assert torch.equal(trials.mask.bool(), covered)
    assert not torch.equal(covered, trials.periods["decision"])


def test_a_pool_is_seeded_shared_and_split_into_train_and_val():
    config = NeurogymConfig(pool=40, pool_part="train")
    train = NeurogymTask(config).sample(300, generator=_generator(0))
    again = NeurogymTask(config).sample(300, generator=_generator(0))
    val = NeurogymTask(dataclasses.replace(config, pool_part="val")).sample(
        300, generator=_generator(0)
    )
    assert torch.equal(train.inputs, again.inputs)

    def distinct(trials):
        return {tuple(np.round(row.numpy(), 6).ravel()) for row in trials.inputs[:, :9]}

    assert len(distinct(train)) == 36 and len(distinct(val)) == 4  # 0.1 of 40 held out
    assert not distinct(train) & distinct(val)
    other_seed = NeurogymTask(dataclasses.replace(config, pool_seed=8)).sample(
        300, generator=_generator(0)
    )
    assert not torch.equal(other_seed.inputs, train.inputs)


def test_decision_accuracy_counts_decision_steps():
    task = NeurogymTask()
    trials = task.sample(8, generator=_generator(0))
    perfect = torch.nn.functional.one_hot(trials.targets, 17).float()  # [B, T, 17]
    assert float(task.accuracy(perfect, trials)) == 1.0
    wrong = torch.nn.functional.one_hot((trials.targets + 1) % 17, 17).float()
    assert float(decision_accuracy(wrong, trials)) == 0.0
    half = perfect.clone()
    first_trial_decision = trials.periods["decision"][0]
    half[0, first_trial_decision] = wrong[0, first_trial_decision]
    n_dec = trials.periods["decision"].sum()
    expected = 1 - first_trial_decision.sum() / n_dec
    assert math.isclose(float(task.accuracy(half, trials)), float(expected))
    fixating = torch.zeros_like(perfect)
    fixating[..., 0] = 1  # right on every fixation step, wrong on every decision step
    assert float(task.accuracy(fixating, trials)) == 0.0


def test_the_default_accuracy_is_the_fraction_of_correct_choices_else_nan():
    task = PerceptualDecision(PerceptualDecisionConfig(dt=20.0))
    trials = task.sample(10, generator=_generator(0))
    outputs = torch.randn(10, trials.n_steps, 2, generator=_generator(1))
    expected = (task.choices(outputs, trials) == trials.conditions["choice"]).float().mean()
    accuracy = task.accuracy(outputs, trials)
    assert accuracy.dim() == 0 and accuracy.dtype == torch.float32
    assert float(accuracy) == float(expected)
    pulse = PulseIntegration()
    assert math.isnan(float(pulse.accuracy(torch.zeros(1, 1, 1), None)))


def test_env_kwargs_are_frozen_hashable_and_survive_json():
    config = NeurogymConfig(env_kwargs={"timing": {"decision": 300}, "cohs": [0.1, 0.5]})
    assert config.env_kwargs == (("cohs", (0.1, 0.5)), ("timing", {"decision": 300}))
    assert isinstance(config.env_kwargs[1][1], FrozenDict)
    hash(config)
    data = json.loads(json.dumps(dataclasses.asdict(config)))
    assert config_from_dict(NeurogymConfig, data) == config
    trials = NeurogymTask(config).sample(4, generator=_generator(0))
    assert torch.all(trials.periods["decision"].sum(1) == 3)
    with pytest.raises(TypeError):
        config.env_kwargs[1][1]["decision"] = 100


@pytest.mark.parametrize(
    "changes, fragments",
    [
        ({"env": "yang19.dm9-v0"}, ["NeurogymConfig.env = 'yang19.dm9-v0'", "choose one of"]),
        ({"env_kwargs": {"colour": 1}}, ["NeurogymConfig.env_kwargs = {'colour': 1}", "want"]),
        ({"env_kwargs": (("dt", 20.0),)}, ["NeurogymConfig.env_kwargs", "'dt'"]),
        ({"env_kwargs": [("a", 1), ("a", 2)]}, ["NeurogymConfig.env_kwargs", "repeated"]),
        ({"env_kwargs": ("sigma",)}, ["NeurogymConfig.env_kwargs = ('sigma',)", "no pair"]),
        ({"dt": 300.0}, ["NeurogymConfig.dt = 300.0", "no decision step", "want"]),
        ({"dt": 1e-3}, ["NeurogymConfig.dt = 0.001", "allowed at most"]),
        ({"loss_on": "stimulus"}, ["NeurogymConfig.loss_on = 'stimulus'", "choose one of"]),
        ({"pool": -1}, ["NeurogymConfig.pool = -1", "must be >= 0"]),
        ({"pool_part": "val"}, ["NeurogymConfig.pool_part = 'val'", "pool >= 2"]),
        ({"val_frac": 1.0}, ["NeurogymConfig.val_frac = 1.0", "allowed"]),
    ],
)
def test_bad_configs_are_refused_naming_the_field(changes, fragments):
    with pytest.raises(ValueError) as error:
        NeurogymConfig(**changes)
    for fragment in fragments:
        assert fragment in str(error.value), (fragment, str(error.value))


def test_sampling_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        task = NeurogymTask(NeurogymConfig(env="yang19.dms-v0", dt=50.0))
        task.sample(4, generator=_generator(0))
