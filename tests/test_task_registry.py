"""Every task against the ``Trials`` contract: shapes, dtypes, mask, periods and seeds.

Each task is tried with its default config and the non-default configs of ``VARIANTS`` (other
``dt``, ``(low, high)`` duration ranges, so trials of one batch differ in length).
"""

import pytest
import torch

from rnnbook.tasks import TASKS, Trials

# Tasks outside ``TASKS``: registering PsychRNN's task from rnnbook.tasks would import
# rnnbook.interop, whose package imports rnnbook.models and rnnbook.analysis (an import cycle).
ALL_TASKS = TASKS

# Non-default configs of each task, as changes to its defaults.
VARIANTS = {
    "perceptual_decision": [
        {"dt": 10.0, "fixation_ms": (50.0, 150.0), "stimulus_ms": (200.0, 800.0)},
        {"dt": 25.0, "decision_ms": (100.0, 300.0), "fixation_input": True},
    ],
    "pulse_integration": [
        {
            "dt": 7.0,  # pulses cover parts of steps
            "trial_ms": 3000.0,
            "onset_ms": (500.0, 1000.0),
            "duration_ms": (10.0, 300.0),
            "cost_onset_ms": 1500.0,
            "catch_fraction": 0.5,
        },
    ],
    "psychrnn_perceptual": [{"dt": 20.0, "trial_ms": 1000.0, "coherences": (0.2, 0.6)}],
    "neurogym": [
        {"env": "yang19.dms-v0", "dt": 50.0},  # two modality envs, string ground truth
        {"env": "yang19.go-v0", "env_kwargs": {"dim_ring": 8}, "pool": 40, "pool_part": "val"},
    ],
    "modcog": [
        {"tasks": ("dm1", "dm2", "dms", "dnms", "ctxdlydm1"), "labels": "clean"},  # seed 000's t_5
        {
            "tasks": ("goseqr", "dlygointl", "dmsintr", "rtantiseql"),
            "mix": "round_robin",
            "dt": 50.0,
        },
        {
            "tasks": ("dnmc", "multidm"),
            "pool": 40,
            "pool_part": "train",
            "match_delay": "per_trial",
        },
    ],
    "reversal_learning": [
        {"rule": "uniform", "n_trials": 90, "n_sessions": 40, "split": "train"},
        {"hazard": 0.2, "min_trials_before_reversal": 3, "p_better": 0.9, "dt": 10.0},
    ],
    "two_stage": [
        {"common_prob": 0.7, "walk": "reflect", "n_trials": 60},
        {"n_sessions": 30, "split": "test", "initial_probs": (0.3, 0.7), "drift_sd": 0.2},
    ],
    "probabilistic_reward": [
        {"volatility_blocks": True, "block_trials": 7, "n_trials": 50},
        {"n_sessions": 25, "split": "val", "agent_beta": 0.0, "n_trials": 3},
    ],
    "delayed_estimation": [
        {"encoding": "cos_sin", "n_slots": 4, "set_sizes": (1, 2, 4), "angle_noise": 0.0},
        {"dt": 20.0, "init_ms": 0.0, "delay_ms": (200.0, 1000.0), "set_sizes": (3, 1)},
    ],
}

# The periods the loss judges: the mask is nonzero exactly on their union.
JUDGED_PERIODS = {
    "perceptual_decision": ("decision",),
    "pulse_integration": ("response",),
    "psychrnn_perceptual": ("delay", "decision"),
    "neurogym": ("decision",),
    "modcog": ("decision",),
    "reversal_learning": ("trial",),
    "two_stage": ("trial",),
    "probabilistic_reward": ("trial",),
    "delayed_estimation": ("decode",),
}

BATCH = 16
CASES = [
    pytest.param((name, changes), id=f"{name}-{i}")
    for name in sorted(ALL_TASKS)
    for i, changes in enumerate([{}, *VARIANTS.get(name, [])])
]


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module", params=CASES)
def case(request):
    """(name, task, trials): one batch of ``BATCH`` trials of a task in one config."""
    name, changes = request.param
    task = ALL_TASKS[name]().with_config(**changes)
    return name, task, task.sample(BATCH, generator=_generator(0))


@pytest.mark.parametrize("name", sorted(ALL_TASKS))
def test_every_task_has_variants_and_judged_periods(name):
    assert VARIANTS.get(name), f"add a non-default config of {name!r} to VARIANTS"
    assert name in JUDGED_PERIODS, f"say which periods {name!r} judges in JUDGED_PERIODS"


def test_shapes_and_dtypes(case):
    _, task, trials = case
    batch, n_steps, n_in = trials.inputs.shape
    assert (batch, n_in) == (BATCH, task.n_in) and n_steps > 0
    assert trials.inputs.dtype == torch.float32
    if trials.targets.dim() == 2:  # class indices
        assert trials.targets.shape == (batch, n_steps)
        assert trials.targets.dtype == torch.long
        assert trials.targets.min() >= 0 and trials.targets.max() < task.n_classes
    else:
        assert trials.targets.shape == (batch, n_steps, task.n_out)
        assert trials.targets.dtype == torch.float32
    assert trials.mask.shape in ((batch, n_steps), (batch, n_steps, task.n_out))
    assert trials.mask.dtype == torch.float32


def test_mask_is_zero_or_one_and_judges_something(case):
    _, _, trials = case
    assert torch.all((trials.mask == 0) | (trials.mask == 1))
    assert torch.all(trials.mask.flatten(1).sum(1) > 0)  # every trial is judged somewhere


def test_periods_are_boolean_and_disjoint(case):
    _, _, trials = case
    assert trials.periods, "a task fills Trials.periods"
    for name, period in trials.periods.items():
        assert period.dtype == torch.bool, name
        assert period.shape == (trials.batch_size, trials.n_steps), name
    in_periods = torch.stack(list(trials.periods.values())).sum(0)  # [B, T]
    assert in_periods.max() <= 1  # no step in two periods


def test_periods_tile_each_trial_up_to_its_end(case):
    _, task, trials = case
    if not type(task).periods_tile_trial:
        pytest.skip(f"{type(task).__name__}'s periods do not tile its trials")
    covered = torch.stack(list(trials.periods.values())).any(0)  # [B, T]
    assert torch.all(covered[:, 0])
    assert torch.all(covered[:, 1:] <= covered[:, :-1])  # covered steps: a prefix of each trial
    assert covered[:, -1].any()  # T is the length of the longest trial
    padding = ~covered
    assert torch.all(trials.mask.reshape(*padding.shape, -1)[padding] == 0)


def test_mask_is_exactly_the_judged_periods(case):
    """A step is judged when the mask weights it (a [B, T, n_out] mask: any of its channels,
    e.g. only the present items' channels of delayed estimation)."""
    name, _, trials = case
    judged = torch.stack([trials.periods[p] for p in JUDGED_PERIODS[name]]).any(0)  # [B, T]
    weighted = trials.mask != 0
    if weighted.dim() == 3:
        weighted = weighted.any(-1)
    assert torch.equal(weighted, judged)


def test_conditions_lead_with_the_batch_and_dt_is_the_tasks(case):
    _, task, trials = case
    assert trials.conditions
    assert all(v.shape[0] == trials.batch_size for v in trials.conditions.values())
    assert trials.dt == task.dt


def _tensors(trials: Trials) -> dict[str, torch.Tensor]:
    named = {"inputs": trials.inputs, "targets": trials.targets, "mask": trials.mask}
    named |= {f"conditions.{k}": v for k, v in trials.conditions.items()}
    return named | {f"periods.{k}": v for k, v in trials.periods.items()}


def test_same_seed_same_trials_other_seed_other_trials(case):
    _, task, trials = case
    again = _tensors(task.sample(BATCH, generator=_generator(0)))
    first = _tensors(trials)
    assert again.keys() == first.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    other = task.sample(BATCH, generator=_generator(1))
    assert not torch.equal(other.inputs, trials.inputs)
    assert any(not torch.equal(other.conditions[k], v) for k, v in trials.conditions.items())
