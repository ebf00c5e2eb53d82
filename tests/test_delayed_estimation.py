"""Seed 003's delayed-estimation task against the spec's known answers (``seed003.md`` §3.1, §3.6):
timing, the positive input code's sums and bounds, the report targets and mask, set sizes."""

import math

import pytest
import torch

from rnnbook.tasks import TASKS, DelayedEstimation, DelayedEstimationConfig
from rnnbook.tasks.delayed_estimation import encode, split_set_sizes, wrap

GEN = torch.Generator


def sample(batch=64, seed=0, **changes):
    task = DelayedEstimation(DelayedEstimationConfig(**changes))
    return task, task.sample(batch, generator=GEN().manual_seed(seed))


def test_registered_with_the_seed_sizes():
    task = TASKS["delayed_estimation"]()
    assert (task.n_in, task.n_out, task.dt) == (30, 20, 10.0)
    assert task.with_config(encoding="cos_sin").n_in == 20


def test_timing_202_steps_stimulus_2_to_51_decode_152_to_201():
    _, trials = sample(batch=8)
    assert trials.n_steps == 202
    steps = {name: period[0].nonzero().flatten() for name, period in trials.periods.items()}
    assert steps["init"].tolist() == [0, 1]
    assert steps["stimulus"].tolist() == list(range(2, 52))
    assert steps["delay"].tolist() == list(range(52, 152))
    assert steps["decode"].tolist() == list(range(152, 202))


def test_positive_code_sums_to_3s_stays_above_its_bound_and_deviates_by_one():
    task, trials = sample(batch=256, set_sizes=(1, 5, 10))
    s = task.config.input_strength / task.config.n_slots  # 12
    code = trials.inputs[:, 2].reshape(256, 10, 3)  # a stimulus step: [B, M, 3]
    present = trials.conditions["presence"]
    shown = code[present]  # [n, 3]
    torch.testing.assert_close(shown.sum(-1), torch.full((len(shown),), 3 * s))
    assert shown.min() >= (1 - math.sqrt(2 / 3)) * s - 1e-4 and shown.min() > 0
    torch.testing.assert_close(
        (shown / s - 1).norm(dim=-1), torch.ones(len(shown)), atol=1e-5, rtol=0
    )
    assert torch.all(code[~present] == 0)  # absent slots: exactly 0
    stimulus = trials.periods["stimulus"]
    assert torch.all(trials.inputs[~stimulus] == 0)  # no input outside the stimulus


def test_the_code_is_the_simplex_embedding_at_known_angles():
    angles = torch.tensor([0.0, math.pi / 2, math.pi, -math.pi / 2])
    expected = torch.tensor(
        [
            [1 + 1 / math.sqrt(2), 1 - 1 / math.sqrt(2), 1.0],
            [1 + 1 / math.sqrt(6), 1 + 1 / math.sqrt(6), 1 - 2 / math.sqrt(6)],
            [1 - 1 / math.sqrt(2), 1 + 1 / math.sqrt(2), 1.0],
            [1 - 1 / math.sqrt(6), 1 - 1 / math.sqrt(6), 1 + 2 / math.sqrt(6)],
        ]
    )
    torch.testing.assert_close(encode(angles, "positive"), expected)
    torch.testing.assert_close(
        encode(angles, "cos_sin"), torch.stack([angles.cos(), angles.sin()], -1)
    )


def test_cos_sin_code_without_sensory_noise_shows_the_true_angles():
    task, trials = sample(batch=32, encoding="cos_sin", angle_noise=0.0, input_strength=10.0)
    code = trials.inputs[:, 10].reshape(32, 10, 2) / (10.0 / 10)
    angles, present = trials.conditions["angles"], trials.conditions["presence"]
    expected = torch.stack([angles.cos(), angles.sin()], -1) * present[..., None]
    torch.testing.assert_close(code, expected, atol=1e-6, rtol=0)


def test_every_present_item_is_reported_in_its_own_slot_over_the_decode_window():
    _, trials = sample(batch=32)
    angles, present = trials.conditions["angles"], trials.conditions["presence"]
    decode = trials.periods["decode"]
    targets = trials.targets.reshape(32, 202, 10, 2)
    report = torch.stack([angles.cos(), angles.sin()], -1)  # [B, M, 2]
    for b in range(32):
        for k in range(10):
            want = report[b, k] if present[b, k] else torch.zeros(2)
            assert torch.allclose(targets[b, decode[b], k], want.expand(50, 2))
            assert torch.all(targets[b, ~decode[b], k] == 0)
    mask = trials.mask.reshape(32, 202, 10, 2)
    expected = decode[:, :, None, None] & present[:, None, :, None]
    assert torch.equal(mask != 0, expected.expand_as(mask))


def test_set_sizes_split_equally_leftovers_first_and_presence_matches():
    assert split_set_sizes(512, tuple(range(1, 11))).bincount().tolist()[1:] == [52, 52] + [51] * 8
    assert split_set_sizes(5, (3, 1)).tolist() == [3, 3, 3, 1, 1]
    _, trials = sample(batch=100)
    present, size = trials.conditions["presence"], trials.conditions["set_size"]
    assert torch.equal(present.sum(1), size)
    assert size.bincount().tolist()[1:] == [10] * 10


def test_present_slots_and_angles_are_uniform():
    _, trials = sample(batch=4000, seed=3, set_sizes=(3,))
    frequency = trials.conditions["presence"].float().mean(0)  # each slot: 3 / 10
    assert torch.allclose(frequency, torch.full((10,), 0.3), atol=0.025)
    angles = trials.conditions["angles"]
    assert angles.min() >= -math.pi and angles.max() < math.pi
    assert abs(float(angles.mean())) < 0.03
    assert abs(float(angles.abs().mean()) - math.pi / 2) < 0.03


def test_sensory_noise_has_the_configured_sd_around_the_true_angle():
    _, trials = sample(batch=4000, seed=1, encoding="cos_sin", angle_noise=0.2, set_sizes=(10,))
    code = trials.inputs[:, 5].reshape(-1, 10, 2)
    sensed = torch.atan2(code[..., 1], code[..., 0])
    error = wrap(sensed - trials.conditions["angles"])
    assert abs(float(error.std()) - 0.2) < 0.005 and abs(float(error.mean())) < 0.005


@pytest.mark.parametrize(
    "changes, fragments",
    [
        ({"n_slots": 4}, ["DelayedEstimationConfig.n_slots = 4", "set_sizes", "want"]),
        ({"set_sizes": (0, 1)}, ["DelayedEstimationConfig.set_sizes = (0, 1)", "want"]),
        ({"set_sizes": [1.5]}, ["DelayedEstimationConfig.set_sizes = [1.5]", "integer"]),
        ({"set_sizes": ()}, ["DelayedEstimationConfig.set_sizes = ()", "one or more"]),
        ({"encoding": "ring"}, ["DelayedEstimationConfig.encoding = 'ring'", "choose"]),
        ({"decode_ms": 4.0}, ["DelayedEstimationConfig.decode_ms = 4.0", ">= 1 step"]),
        ({"angle_noise": -0.1}, ["DelayedEstimationConfig.angle_noise = -0.1", "allowed"]),
        ({"input_strength": 0.0}, ["DelayedEstimationConfig.input_strength = 0.0", "> 0"]),
    ],
)
def test_bad_configs_are_refused_by_name(changes, fragments):
    with pytest.raises(ValueError) as error:
        DelayedEstimationConfig(**changes)
    assert all(f in str(error.value) for f in fragments), str(error.value)


def test_set_sizes_from_a_list_become_a_tuple_for_the_run_cache():
    assert DelayedEstimationConfig(n_slots=4, set_sizes=[1, 2, 4]).set_sizes == (1, 2, 4)


def test_set_trials_show_exactly_the_given_angles_and_match_sampled_ones():
    task = DelayedEstimation(
        DelayedEstimationConfig(n_slots=3, set_sizes=(1, 2, 3), encoding="cos_sin")
    )
    sampled = task.sample(8, generator=GEN().manual_seed(4))
    angles, presence = sampled.conditions["angles"], sampled.conditions["presence"]
    again = task.trials_for(angles, presence)  # no generator: no sensory noise
    assert torch.equal(again.targets, sampled.targets) and torch.equal(again.mask, sampled.mask)
    assert torch.equal(again.conditions["set_size"], sampled.conditions["set_size"])
    shown = again.inputs[:, 10].reshape(8, 3, 2)  # a stimulus step: s (cos, sin) per slot
    s = task.config.input_strength / 3
    expected = s * torch.stack([angles.cos(), angles.sin()], -1) * presence[..., None]
    torch.testing.assert_close(shown, expected)


def test_set_trials_take_any_set_size_and_sensory_noise_only_from_a_generator():
    task = DelayedEstimation(DelayedEstimationConfig(n_slots=2, set_sizes=(1,)))
    angles = torch.tensor([[0.5, -1.0], [2.0, 0.0], [0.0, 0.0]])
    presence = torch.tensor([[1, 1], [0, 1], [0, 0]])
    trials = task.trials_for(angles, presence)
    assert trials.conditions["set_size"].tolist() == [2, 1, 0]
    assert trials.inputs[2].abs().sum() == 0 and trials.mask[2].sum() == 0
    noisy = task.trials_for(angles, presence, generator=GEN().manual_seed(0))
    assert not torch.equal(noisy.inputs, trials.inputs)
    torch.testing.assert_close(noisy.targets, trials.targets)  # the report is of the true angle


@pytest.mark.parametrize(
    "angles, presence, fragment",
    [
        (torch.zeros(2, 3), torch.ones(2, 3), "want finite angles [B, M = 2]"),
        (torch.full((2, 2), math.nan), torch.ones(2, 2), "want finite angles"),
        (torch.zeros(2, 2), torch.ones(2, 3), "presence has shape (2, 3)"),
        (torch.zeros(2, 2), torch.full((2, 2), 2), "want 0/1 or bool"),
    ],
)
def test_set_trials_refuse_bad_shapes_by_name(angles, presence, fragment):
    task = DelayedEstimation(DelayedEstimationConfig(n_slots=2, set_sizes=(1,)))
    with pytest.raises(ValueError) as error:
        task.trials_for(angles, presence)
    assert fragment in str(error.value)
