"""Every config class takes any value in any field and either works or refuses it by name.

For each config class (the config of every task in ``TASKS``, ``ModelConfig``, ``TrainConfig``,
``CurriculumConfig``, ``Penalty``) hypothesis replaces one field of a valid config with a value
drawn from a broad strategy (numeric-looking and other strings, integers of any size, floats
with NaN, infinities, -0.0, tiny and huge ones, booleans, None, lists, tuples and dicts of
those) and constructs the config. Either it constructs and is usable (a task samples trials
whose judged periods all have steps; a model builds and runs; every config survives its JSON
round trip, as the run cache stores it), or it raises a ValueError whose message names
``Class.field``, shows the value and says what is allowed. Any other exception fails.

Settings (500 examples, derandomised, no database): the ``rnnbook`` profile of conftest.py.
"""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from hypothesis import event, given
from hypothesis import strategies as st
from test_task_registry import JUDGED_PERIODS

from rnnbook.models import PARTS, ModelConfig, RateRNN
from rnnbook.models.config import E_UNITS
from rnnbook.runs import RunSpec, build_model
from rnnbook.tasks import TASKS, PerceptualDecision, PerceptualDecisionConfig
from rnnbook.training import (
    LOSSES,
    OPTIMIZERS,
    PENALTIES,
    CurriculumConfig,
    Penalty,
    TrainConfig,
)
from rnnbook.validation import config_from_dict


@pytest.fixture(autouse=True)
def ieee_floats():
    """train() flushes denormal floats to zero for the whole process (rnnbook.runtime); hypothesis
    draws floats only where they follow IEEE 754, so turn flushing off for these tests."""
    torch.set_flush_denormal(False)


WORDS = ("allowed", "want", "must", "choose")  # an error says what is allowed
MAX_FUZZ_STEPS = 20_000  # longer trials are valid but too slow to sample here
MAX_FUZZ_UNITS = 256  # larger networks are valid but too slow to build here

# strings a config might accept: every registered name and task config field, and a few
# that look like other things
NAMES = sorted(
    {name for registry in PARTS.values() for name in registry}
    | set(E_UNITS)
    | set(LOSSES)
    | set(OPTIMIZERS)
    | set(PENALTIES)
    | {f.name for task in TASKS.values() for f in dataclasses.fields(task.config_class)}
    | {"3", "2.5", "-1", "abc", "", "nan", "inf", "1e3", "True", "None", "margin"}
)

SCALARS = st.one_of(
    st.sampled_from(NAMES),
    st.text(max_size=6),
    st.integers(-3, 300),
    st.integers(),
    st.sampled_from([2**31, 2**63, 10**400, -(10**400)]),
    st.floats(),  # NaN and +-inf included
    st.floats(0.0, 2000.0),
    st.sampled_from(
        [math.nan, math.inf, -math.inf, -0.0, 0.0, 5e-324, 1e-300, 1e-6, 0.5, 1.0, 20.0, 1e30]
        + [3.4e38, 3.5e38, 1e308]
    ),
    st.booleans(),
    st.none(),
)
KEYS = st.sampled_from(["name", "weight", "options", "margin", "start", "end", "every"]) | st.text(
    max_size=3
)
ANYTHING = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(KEYS, inner, max_size=2),
    ),
    max_leaves=4,
)
DURATIONS = st.floats(0.0, 2000.0) | st.integers(0, 2000)


def like(default) -> st.SearchStrategy:
    """Values of the default's own kind, most of them valid."""
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.integers(-2, 300)
    if isinstance(default, float):
        return st.floats(0.0, 4 * default + 1) | st.floats(-1.0, 1.0) | st.floats()
    if isinstance(default, str):
        return st.sampled_from(NAMES)
    if isinstance(default, tuple):
        return st.lists(DURATIONS | SCALARS, max_size=3) | st.tuples(DURATIONS, DURATIONS)
    return st.floats(0.0, 2.0) | st.integers(0, 300)  # None: any number


PENALTY_DICTS = st.fixed_dictionaries(
    {"name": st.sampled_from(sorted(PENALTIES)), "weight": st.floats(0, 1) | SCALARS},
    optional={"options": st.dictionaries(KEYS, st.floats(0, 10) | SCALARS, max_size=2)},
)
FIELD_VALUES = {  # fields whose valid values no generic strategy draws often
    "penalties": st.lists(PENALTY_DICTS | ANYTHING, max_size=2),
    "curriculum": st.dictionaries(
        st.sampled_from([f.name for f in dataclasses.fields(CurriculumConfig)]) | KEYS,
        st.floats(0, 1) | st.integers(1, 300) | SCALARS,
        max_size=3,
    ),
    "options": st.dictionaries(KEYS, st.floats(0, 10) | SCALARS, max_size=2)
    | st.lists(st.tuples(KEYS, st.floats(0, 10) | SCALARS), max_size=2),
}


def changes(config) -> st.SearchStrategy:
    """(field, value): one field of ``config`` and a value for it."""
    names = [f.name for f in dataclasses.fields(config)]

    def values(name):
        default = getattr(config, name)
        return st.tuples(
            st.just(name), ANYTHING | like(default) | FIELD_VALUES.get(name, st.nothing())
        )

    return st.sampled_from(names).flatmap(values)


def construct(build, cls_name: str, field: str, value):
    """``build()``, or None after checking that its ValueError names field and value."""
    try:
        return build()
    except ValueError as error:
        assert_names(error, cls_name, field, value)
        event("refused")
        return None


def assert_names(error: ValueError, cls_name: str, field: str, value) -> None:
    message = str(error)
    assert f"{cls_name}.{field}" in message, message
    shown = [repr(value)] + ([repr(tuple(value))] if isinstance(value, list) else [])
    assert any(s in message for s in shown), (shown, message)
    assert any(word in message for word in WORDS), message


def round_trip(config):
    """The config rebuilt from its JSON form, as the run cache stores and loads it."""
    data = json.loads(json.dumps(dataclasses.asdict(config)))
    return config_from_dict(type(config), data)


def longest_trial_steps(config) -> float:
    """An upper bound of a trial's steps: its ``trial_ms``, else the sum of its durations."""
    if hasattr(config, "trial_ms"):
        return config.trial_ms / config.dt
    highs = [
        max(v) if isinstance(v, tuple) else v
        for f in dataclasses.fields(config)
        if f.name.endswith("_ms") and not isinstance(v := getattr(config, f.name), str)
    ]
    return sum(highs) / config.dt


@pytest.mark.parametrize("name", sorted(TASKS))
@given(data=st.data())
def test_task_configs_work_or_name_the_field(name, data):
    task_class = TASKS[name]
    default = task_class.config_class()
    field, value = data.draw(changes(default), label="change")
    cls_name = type(default).__name__
    config = construct(
        lambda: dataclasses.replace(default, **{field: value}), cls_name, field, value
    )
    if config is None:
        return
    assert round_trip(config) == config
    if longest_trial_steps(config) > MAX_FUZZ_STEPS:
        event("not sampled: trial too long to sample here")
        return
    trials = task_class(config).sample(2, generator=torch.Generator().manual_seed(0))
    for period in JUDGED_PERIODS[name]:
        assert torch.all(trials.periods[period].sum(1) >= 1), (period, config)
    assert torch.all(trials.mask.flatten(1).sum(1) > 0)


SMALL_TASK = PerceptualDecision(
    PerceptualDecisionConfig(fixation_ms=20.0, stimulus_ms=100.0, decision_ms=40.0)
)  # n_in = n_out = 2, dt = 20 ms, T = 8


@given(change=changes(ModelConfig(n_rec=8)))
def test_model_config_works_or_names_the_field(change):
    field, value = change
    default = ModelConfig(n_rec=8)
    config = construct(
        lambda: dataclasses.replace(default, **{field: value}), "ModelConfig", field, value
    )
    if config is None:
        return
    assert round_trip(config) == config
    resolved = construct(lambda: config.for_task(SMALL_TASK), "ModelConfig", field, value)
    if resolved is None:  # disagrees with the task (n_in, n_out, dt), naming both values
        return
    if config.n_rec > MAX_FUZZ_UNITS:
        event("not built: network too large to build here")
        return
    model = RateRNN(resolved, seed=0)
    trials = SMALL_TASK.sample(2, generator=torch.Generator().manual_seed(0))
    rollout = model(trials.inputs, generator=torch.Generator().manual_seed(0))
    assert rollout.outputs.shape == (2, trials.n_steps, SMALL_TASK.n_out)


@given(change=changes(TrainConfig()))
def test_train_config_works_or_names_the_field(change):
    field, value = change
    config = construct(lambda: TrainConfig(**{field: value}), "TrainConfig", field, value)
    if config is None:
        return
    hash(config)  # frozen and hashable: lists became tuples, dicts configs
    assert round_trip(config) == config


@given(change=changes(CurriculumConfig()))
def test_curriculum_config_works_or_names_the_field(change):
    field, value = change
    config = construct(lambda: CurriculumConfig(**{field: value}), "CurriculumConfig", field, value)
    if config is None:
        return
    levels = config.levels()
    assert levels[0] == round(config.start, 9) and len(levels) >= 1
    assert round_trip(config) == config


PENALTY = {"name": "contrastive_margin", "weight": 0.5, "options": (("margin", 2.0),)}


@given(change=changes(Penalty(**PENALTY)))
def test_penalty_works_or_names_the_field(change):
    field, value = change
    penalty = construct(lambda: Penalty(**(PENALTY | {field: value})), "Penalty", field, value)
    if penalty is None:
        return
    hash(penalty)
    assert round_trip(penalty) == penalty
    assert Penalty.from_value(dataclasses.asdict(penalty)) == penalty


CONFIGS = [task.config_class for task in TASKS.values()] + [
    ModelConfig,
    TrainConfig,
    CurriculumConfig,
    Penalty,
]


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_unknown_field_names_are_refused_listing_the_allowed_ones(cls):
    allowed = [f.name for f in dataclasses.fields(cls)]
    data = {"name": "rate_l1", "weight": 0.1} if cls is Penalty else {}
    with pytest.raises(ValueError, match=r"unknown field 'colour'") as error:
        config_from_dict(cls, data | {"colour": 1}, where=f"{cls.__name__} from a dict")
    assert all(name in str(error.value) for name in allowed)
    assert f"{cls.__name__} from a dict" in str(error.value)
    with pytest.raises(ValueError, match=r"unknown fields 'colour', 'size'.*allowed fields"):
        config_from_dict(cls, data | {"colour": 1, "size": 2})
    with pytest.raises(ValueError, match=r"is not allowed: want a mapping"):
        config_from_dict(cls, [("colour", 1)])
    assert config_from_dict(cls, data) == cls(**data)


def test_missing_required_fields_and_task_changes_are_named():
    with pytest.raises(ValueError, match=r"Penalty = \{'name': 'rate_l1'\}.*must give weight"):
        config_from_dict(Penalty, {"name": "rate_l1"})
    with pytest.raises(
        ValueError, match=r"TrainConfig.curriculum = \{'level': 0.5\}: unknown field 'level'"
    ):
        TrainConfig(curriculum={"level": 0.5})
    with pytest.raises(ValueError, match=r"TrainConfig.penalties = .*unknown field 'width'"):
        TrainConfig(penalties=[{"name": "rate_l1", "weight": 0.1, "width": 2}])
    with pytest.raises(
        ValueError,
        match=r"with_config\(\*\*\{'stimulus': 100.0\}\): unknown field 'stimulus'.*stimulus_ms",
    ):
        SMALL_TASK.with_config(stimulus=100.0)


SPEC = RunSpec(
    "perceptual_decision", SMALL_TASK.config, ModelConfig(n_rec=8), TrainConfig(n_steps=1)
)
SPEC_VALUES = {  # valid configs that do not fit the spec's task, besides anything at all
    "task": st.sampled_from([*sorted(TASKS), "perceptual", ""]),
    "task_config": st.sampled_from([PerceptualDecisionConfig(dt=10.0)])
    | st.builds(lambda name: TASKS[name].config_class(), st.sampled_from(sorted(TASKS))),
    "model_config": st.sampled_from(
        [ModelConfig(n_in=5), ModelConfig(n_out=1), ModelConfig(dt=10.0), ModelConfig(n_rec=4)]
    ),
    "train_config": st.sampled_from([TrainConfig(loss="mse"), TrainConfig(lr=0.5)]),
    "seed": st.integers(-3, 2**40),
    "model": st.sampled_from(["rate", "gru", "RateRNN"]),
}


@given(data=st.data())
def test_run_specs_build_or_name_the_field(data):
    """A spec that is refused names ``RunSpec.field`` or the config field that disagrees with
    the task; one that is accepted has a key and builds its model."""
    field = data.draw(st.sampled_from(sorted(SPEC_VALUES)), label="field")
    value = data.draw(ANYTHING | SPEC_VALUES[field], label="value")
    try:
        spec = dataclasses.replace(SPEC, **{field: value})
    except ValueError as error:
        message = str(error)
        assert any(word in message for word in WORDS), message
        assert f"RunSpec.{field}" in message or any(
            f"{cls}." in message for cls in ("ModelConfig", "TrainConfig")
        ), message
        event("refused")
        return
    assert len(spec.key()) == 64 and RunSpec.from_dict(spec.to_dict()) == spec
    build_model(spec)
