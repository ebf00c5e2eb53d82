"""Bad input found by users: each is refused with a ValueError naming the field and the value.

Configs refuse a bad value when they are constructed; ``train()`` refuses a model, task and
training config that do not fit together before its first step.
"""

from __future__ import annotations

import math

import pytest
import torch

from rnnbook.models import ModelConfig, RateRNN
from rnnbook.runs import RunSpec
from rnnbook.seeding import Seeds
from rnnbook.tasks import (
    TASKS,
    PerceptualDecision,
    PerceptualDecisionConfig,
    PsychRNNPerceptual,
    PsychRNNPerceptualConfig,
    PulseIntegration,
    PulseIntegrationConfig,
)
from rnnbook.tasks.base import TARGET_KINDS
from rnnbook.training import LOSSES, CurriculumConfig, Penalty, TrainConfig, train
from rnnbook.training.losses import losses_for

SMALL = dict(fixation_ms=20.0, stimulus_ms=100.0, decision_ms=40.0)  # T = 8 at dt = 20
TASK = PerceptualDecision(PerceptualDecisionConfig(**SMALL))
PULSE = PulseIntegration(
    PulseIntegrationConfig(
        dt=20.0, trial_ms=600.0, onset_ms=(100.0, 200.0), duration_ms=40.0, cost_onset_ms=400.0
    )
)
PSYCHRNN = PsychRNNPerceptual(PsychRNNPerceptualConfig(dt=20.0, trial_ms=600.0))
TRAIN = TrainConfig(n_steps=2, batch_size=4, eval_every=1, eval_batch_size=4)


def refused(build, *fragments: str) -> str:
    """``build()`` raises a ValueError whose message holds every fragment; the message."""
    with pytest.raises(ValueError) as error:
        build()
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


@pytest.mark.parametrize(
    "field, value",
    [("tau", math.inf), ("sigma_in", math.inf), ("spectral_radius", math.inf)],
)
def test_infinite_model_fields(field, value):
    refused(lambda: ModelConfig(**{field: value}), f"ModelConfig.{field} = inf", "finite")


@pytest.mark.parametrize(
    "build, field, value",
    [
        (ModelConfig, "train_recurrent", "no"),
        (ModelConfig, "bias", "yes"),
        (PerceptualDecisionConfig, "fixation_input", "no"),
    ],
)
def test_booleans_given_as_strings(build, field, value):
    message = refused(lambda: build(**{field: value}), f"{field} = {value!r}", "want a bool")
    assert message.startswith(f"{build.__name__}.{field}")


@pytest.mark.parametrize("decision_ms", [0, 0.0, 5.0, 10.0, (0.0, 100.0)])
def test_a_judged_period_without_steps(decision_ms):
    refused(
        lambda: PerceptualDecisionConfig(decision_ms=decision_ms),
        f"PerceptualDecisionConfig.decision_ms = {decision_ms!r}",
        "must have >= 1 step",
        "PerceptualDecisionConfig.dt = 20.0",
    )
    PerceptualDecisionConfig(decision_ms=10.1)  # rounds to one step of 20 ms


def test_model_dt_other_than_the_tasks_is_refused_by_train():
    model = RateRNN(ModelConfig(n_rec=8).for_task(TASK.with_config(dt=10.0)))
    before = [p.clone() for p in model.parameters()]
    refused(lambda: train(model, TASK, TRAIN, progress=False), "ModelConfig.dt = 10.0", "20.0")
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters(), strict=True))


@pytest.mark.parametrize(
    "build, field, value",
    [
        (ModelConfig, "tau", "100"),
        (ModelConfig, "n_rec", "16"),
        (ModelConfig, "sigma_rec", "abc"),
        (PerceptualDecisionConfig, "dt", "20"),
        (PerceptualDecisionConfig, "stimulus_ms", "500"),
        (PerceptualDecisionConfig, "sigma_stim", "1.5"),
        (PulseIntegrationConfig, "trial_ms", "7000"),
        (PulseIntegrationConfig, "cost_onset_ms", "4500"),
        (PsychRNNPerceptualConfig, "trial_ms", "abc"),
        (TrainConfig, "lr", "1e-3"),
        (TrainConfig, "n_steps", "100"),
        (CurriculumConfig, "start", "1.0"),
        (CurriculumConfig, "every", "200"),
    ],
)
def test_strings_where_numbers_are_expected(build, field, value):
    refused(lambda: build(**{field: value}), f"{build.__name__}.{field} = {value!r}", "want")


@pytest.mark.parametrize(
    "build, field, value",
    [(ModelConfig, "n_rec", 16.5), (TrainConfig, "batch_size", 4.5), (ModelConfig, "rank", 2.0)],
)
def test_floats_where_integers_are_expected(build, field, value):
    refused(
        lambda: build(**{field: value}), f"{build.__name__}.{field} = {value!r}", "want an integer"
    )


@pytest.mark.parametrize(
    "build, value",
    [
        (PerceptualDecisionConfig, 0.5),
        (PsychRNNPerceptualConfig, 0.5),
        (PerceptualDecisionConfig, "0.5"),
        (PerceptualDecisionConfig, ()),
        (PerceptualDecisionConfig, []),
        (PsychRNNPerceptualConfig, []),
        (PerceptualDecisionConfig, ["a", "b"]),
        (PerceptualDecisionConfig, [0.1, math.nan]),
        (PerceptualDecisionConfig, [0.1, 1.5]),
        (PsychRNNPerceptualConfig, [0.1, math.inf]),
        (PerceptualDecisionConfig, [True, 0.5]),
    ],
)
def test_coherences_must_be_a_list_of_numbers(build, value):
    refused(lambda: build(coherences=value), f"{build.__name__}.coherences = {value!r}", "want")


def test_coherences_given_as_a_list_become_a_tuple_of_floats():
    assert PerceptualDecisionConfig(coherences=[0, 0.5]).coherences == (0.0, 0.5)


@pytest.mark.parametrize(
    "field, value",
    [
        ("stimulus_ms", math.inf),
        ("stimulus_ms", -math.inf),
        ("stimulus_ms", math.nan),
        ("fixation_ms", -1.0),
        ("stimulus_ms", ("a", 500.0)),
        ("stimulus_ms", (100.0, math.nan)),
        ("stimulus_ms", (100.0, math.inf)),
        ("stimulus_ms", (100.0, 200.0, 300.0)),
        ("stimulus_ms", (100.0,)),
        ("stimulus_ms", (800.0, 200.0)),
        ("decision_ms", (True, 200.0)),
        ("decision_ms", None),
    ],
)
def test_bad_durations(field, value):
    refused(
        lambda: PerceptualDecisionConfig(**{field: value}),
        f"PerceptualDecisionConfig.{field} = {value!r}",
    )


def test_a_duration_range_given_as_a_list_is_named_as_its_tuple():
    refused(
        lambda: PerceptualDecisionConfig(stimulus_ms=[100.0, "x"]),
        "PerceptualDecisionConfig.stimulus_ms = (100.0, 'x')",
    )
    assert PerceptualDecisionConfig(stimulus_ms=[100.0, 300.0]).stimulus_ms == (100.0, 300.0)


@pytest.mark.parametrize(
    "build, fragments",
    [
        (lambda: PerceptualDecisionConfig(dt=1e6), ["PerceptualDecisionConfig.dt = 1000000.0"]),
        (lambda: PerceptualDecisionConfig(dt=1e-7), ["PerceptualDecisionConfig.dt = 1e-07"]),
        (lambda: PulseIntegrationConfig(dt=5000.0), ["PulseIntegrationConfig.dt = 5000.0"]),
        (lambda: PulseIntegrationConfig(dt=1e-9), ["PulseIntegrationConfig.dt = 1e-09"]),
        (lambda: PsychRNNPerceptualConfig(dt=500.0), ["PsychRNNPerceptualConfig.dt = 500.0"]),
        (
            lambda: PsychRNNPerceptualConfig(dt=20.0, trial_ms=100.0),
            ["PsychRNNPerceptualConfig.dt = 20.0", "PsychRNNPerceptualConfig.trial_ms = 100.0"],
        ),
        (
            lambda: PulseIntegrationConfig(trial_ms=4500.4),
            ["PulseIntegrationConfig.trial_ms = 4500.4", "PulseIntegrationConfig.dt = 1.0"],
        ),
    ],
)
def test_a_dt_that_leaves_a_judged_period_without_steps_or_too_many(build, fragments):
    message = refused(build, *fragments)
    assert any(word in message for word in ("allowed", "must", "want")), message


@pytest.mark.parametrize(
    "build, fragment",
    [
        (lambda: TrainConfig(lr=math.inf), "TrainConfig.lr = inf"),
        (lambda: TrainConfig(lr=math.nan), "TrainConfig.lr = nan"),
        (lambda: TrainConfig(weight_decay=math.inf), "TrainConfig.weight_decay = inf"),
        (lambda: TrainConfig(grad_clip=math.nan), "TrainConfig.grad_clip = nan"),
        (lambda: TrainConfig(target_accuracy=math.nan), "TrainConfig.target_accuracy = nan"),
        (lambda: TrainConfig(divergence_factor=math.inf), "TrainConfig.divergence_factor = inf"),
        (lambda: TrainConfig(divergence_factor=1.0), "TrainConfig.divergence_factor = 1.0"),
        (lambda: CurriculumConfig(start=math.nan), "CurriculumConfig.start = nan"),
        (lambda: CurriculumConfig(end=-math.inf), "CurriculumConfig.end = -inf"),
        (lambda: CurriculumConfig(step=1e-9), "CurriculumConfig.step = 1e-09"),
        (lambda: Penalty("rate_l1", math.nan), "Penalty.weight = nan"),
        (lambda: Penalty("contrastive_margin", 0.1, margin=math.inf), "'margin' = inf"),
        (lambda: ModelConfig(dt=math.nan), "ModelConfig.dt = nan"),
        (lambda: ModelConfig(tau=(50.0, math.nan)), "ModelConfig.tau = (50.0, nan)"),
        (lambda: ModelConfig(tau=None, leak=math.nan), "ModelConfig.leak = nan"),
        (lambda: ModelConfig(e_frac=math.nan), "ModelConfig.e_frac = nan"),
        (lambda: ModelConfig(rate_max=10**400), "ModelConfig.rate_max = 1000"),
        (lambda: PerceptualDecisionConfig(sigma_stim=math.nan), "sigma_stim = nan"),
        (lambda: PulseIntegrationConfig(strength=math.inf), "PulseIntegrationConfig.strength"),
        (lambda: PulseIntegrationConfig(catch_fraction=math.nan), "catch_fraction = nan"),
        (lambda: PsychRNNPerceptualConfig(dt=math.nan), "PsychRNNPerceptualConfig.dt = nan"),
    ],
)
def test_nan_and_infinity_are_refused_everywhere(build, fragment):
    refused(build, fragment)


def test_a_model_whose_inputs_do_not_fit_the_task_is_refused_by_train():
    model = RateRNN(ModelConfig(n_in=3, n_out=2, dt=20.0, n_rec=8))
    refused(
        lambda: train(model, TASK, TRAIN, progress=False),
        "ModelConfig.n_in = 3",
        "n_in = 2",
        "must equal",
    )


@pytest.mark.parametrize(
    "task, loss, fitting",
    [
        (PULSE, "cross_entropy", str(losses_for("values"))),
        (PSYCHRNN, "modcog", str(losses_for("values"))),
        (TASK, "mse", "('cross_entropy', 'modcog')"),
    ],
)
def test_a_loss_that_does_not_fit_the_targets_is_refused_by_train(task, loss, fitting):
    model = RateRNN(ModelConfig(n_rec=8).for_task(task))
    config = TrainConfig(n_steps=1, batch_size=2, loss=loss)
    refused(
        lambda: train(model, task, config, progress=False),
        f"TrainConfig.loss = {loss!r}",
        f"choose one of {fitting}",
    )


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_declares_the_targets_it_samples(name):
    task = TASKS[name]()
    assert task.target_kind in TARGET_KINDS
    assert any(loss.targets == task.target_kind for loss in LOSSES.values())
    targets = task.sample(2, generator=torch.Generator().manual_seed(0)).targets
    if task.target_kind == "classes":
        assert targets.dim() == 2 and targets.dtype == torch.long and hasattr(task, "n_classes")
    else:
        assert (
            targets.dim() == 3 and targets.shape[-1] == task.n_out and targets.is_floating_point()
        )


@pytest.mark.parametrize("seed", [-1, 2.5, "3", True, None])
def test_a_seed_is_a_non_negative_integer(seed):
    refused(
        lambda: RunSpec("perceptual_decision", TASK.config, ModelConfig(n_rec=8), TRAIN, seed=seed),
        f"RunSpec.seed = {seed!r}",
        "integer >= 0",
    )
    model = RateRNN(ModelConfig(n_rec=8).for_task(TASK))
    refused(lambda: train(model, TASK, TRAIN, seed=seed, progress=False), f"seed = {seed!r}")
    refused(lambda: Seeds.from_seed(seed), f"seed = {seed!r}")


def test_a_curriculum_field_the_task_lacks_is_refused_by_train():
    model = RateRNN(ModelConfig(n_rec=8).for_task(PULSE))
    config = TrainConfig(n_steps=1, batch_size=2, loss="mse", curriculum=CurriculumConfig())
    refused(
        lambda: train(model, PULSE, config, progress=False),
        "CurriculumConfig.field = 'coherences'",
        "choose one of",
    )
