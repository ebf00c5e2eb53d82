"""fit_many: each member is the run fit() trains alone, stored in the cache like it."""

import dataclasses
import re
from dataclasses import replace

import pytest
import torch

import rnnbook.training.many as many
import rnnbook.training.many.stacked as stacked
from rnnbook.models import MODELS, PARTS, ModelConfig, RateRNN
from rnnbook.runs import RunSpec, build_model, fit, load_run
from rnnbook.tasks import (
    DelayedEstimationConfig,
    PerceptualDecisionConfig,
    PulseIntegrationConfig,
    ReversalLearningConfig,
)
from rnnbook.training import LOSSES, OPTIMIZERS, PENALTIES, CurriculumConfig, Penalty, TrainConfig
from rnnbook.training.many import EnsembleError, auto_method, fit_many
from rnnbook.training.many.stackable import MODEL_PER_MEMBER, TRAIN_PER_MEMBER, check_stackable

DECISION = PerceptualDecisionConfig(stimulus_ms=200, coherences=[0.1, 0.4])  # T = 25
WM = DelayedEstimationConfig(  # T = 10, 2 slots: seed 003's (cos, sin) losses
    init_ms=0.0, stimulus_ms=30.0, delay_ms=30.0, decode_ms=40.0, n_slots=2, set_sizes=(1, 2)
)
REVERSAL = ReversalLearningConfig(n_trials=12)  # sessions of 12 trials: seed 004's soft targets
PULSE = PulseIntegrationConfig(  # T = 30, a regression task (loss="mse")
    dt=20.0, trial_ms=600.0, onset_ms=(100.0, 200.0), duration_ms=(40.0, 100.0), cost_onset_ms=400.0
)
SMALL = TrainConfig(n_steps=10, batch_size=8, eval_every=5, eval_batch_size=16)


@pytest.fixture(autouse=True)
def stack_on_the_cpu(monkeypatch):
    """Stacks train on the CPU, as fit() does: on CUDA a member draws its noise from CUDA
    generators, whose streams differ from the CPU's for the same seed."""
    monkeypatch.setattr(stacked, "default_device", lambda: torch.device("cpu"))


@pytest.fixture
def spec():
    dale = ModelConfig(
        n_rec=12,
        recurrence="dale",
        input_weights="nonnegative",
        readout_weights="nonnegative",
        sigma_rec=0.05,
    )
    return RunSpec(
        task="perceptual_decision",
        task_config=DECISION,
        model_config=dale,
        train_config=TrainConfig(n_steps=16, batch_size=8, eval_every=5, eval_batch_size=16),
    )


def diverging(spec):
    """A spec whose training blows up at step 2 (an absurd learning rate)."""
    return replace(spec, seed=9, train_config=replace(spec.train_config, lr=1e6))


def assert_same_run(single, member, *, rtol=0.0, atol=0.0):
    assert member.spec == single.spec and member.history.eval_step == single.history.eval_step
    assert member.history.step == single.history.step
    for name in ("loss", "grad_norm", "eval_loss", "eval_accuracy"):
        ours, theirs = getattr(member.history, name), getattr(single.history, name)
        torch.testing.assert_close(
            torch.tensor(ours), torch.tensor(theirs), rtol=rtol, atol=atol, equal_nan=True
        )
    ours, theirs = member.history.param_grad_norm, single.history.param_grad_norm
    assert sorted(ours) == sorted(theirs) and theirs
    for name in theirs:
        torch.testing.assert_close(
            torch.tensor(ours[name]), torch.tensor(theirs[name]), rtol=max(rtol, 1e-6), atol=atol
        )
    ours, theirs = member.model.state_dict(), single.model.state_dict()
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        torch.testing.assert_close(ours[name], theirs[name], rtol=rtol, atol=atol)


def assert_trained(run):
    """Training moved the parameters: equal runs are not two runs that did nothing."""
    initial = build_model(run.spec).state_dict()
    trained = run.model.state_dict()
    moved = [name for name, p in run.model.named_parameters() if p.requires_grad]
    assert moved and any(not torch.allclose(trained[n], initial[n], atol=1e-4) for n in moved)
    assert run.history.n_steps == run.spec.train_config.n_steps


def test_processes_train_each_run_exactly_as_fit_alone_and_keep_finished_ones(spec, tmp_path):
    specs = [replace(spec, seed=0), replace(spec, seed=1)]
    singles = [fit(s, cache_dir=tmp_path / "alone", progress=False) for s in specs]
    cache = tmp_path / "many"
    with pytest.raises(EnsembleError, match=r"1 of 3 runs failed[\s\S]*seed 9.*DivergenceError"):
        fit_many([*specs, diverging(spec)], cache_dir=cache, method="processes", workers=2)
    runs = fit_many(specs, cache_dir=cache, method="processes", workers=2)  # stored: loaded
    for single, run in zip(singles, runs, strict=True):
        assert run.cached
        assert run.history.loss == single.history.loss  # bit for bit, one thread each
        assert_same_run(single, run)


def test_stacked_members_equal_single_training(spec, tmp_path):
    noisy = replace(spec.model_config, sigma_in=0.02)
    specs = [
        replace(spec, seed=0),
        replace(spec, seed=1, model_config=noisy),
        replace(spec, seed=2, train_config=replace(spec.train_config, lr=3e-3, grad_clip=0.1)),
    ]
    runs = fit_many(specs, cache_dir=tmp_path / "many", method="stacked", progress=False)
    for s, run in zip(specs, runs, strict=True):
        assert not run.cached and run.path.name == s.key()
        single = fit(s, cache_dir=tmp_path / "alone", progress=False)
        assert_same_run(single, run, rtol=1e-4, atol=1e-6)
        assert_same_run(single, load_run(run.path), rtol=1e-4, atol=1e-6)


def test_stacked_members_may_differ_in_trial_length_and_time_constant(spec, tmp_path):
    fixed = ModelConfig(n_rec=12, activation="tanh", train_recurrent=False, sigma_rec=0.05)
    base = replace(spec, model_config=fixed)
    specs = [
        replace(base, task_config=replace(spec.task_config, stimulus_ms=(100.0, 400.0))),
        replace(base, seed=1, model_config=replace(fixed, tau=60.0, sigma_rec=0.0)),
    ]
    runs = fit_many(specs, cache_dir=tmp_path / "many", method="stacked", progress=False)
    for s, run in zip(specs, runs, strict=True):
        single = fit(s, cache_dir=tmp_path / "alone", progress=False)
        assert_same_run(single, run, rtol=1e-4, atol=1e-6)


def test_stacks_in_worker_processes_equal_single_training(spec, tmp_path):
    specs = [replace(spec, seed=s) for s in range(4)]  # two stacks of two, one per worker
    runs = fit_many(specs, cache_dir=tmp_path / "many", method="stacked", workers=2)
    for s, run in zip(specs, runs, strict=True):
        assert not run.cached and run.metadata["trained_by"] == "fit_many, stacked"
        single = fit(s, cache_dir=tmp_path / "alone", progress=False)
        assert_same_run(single, run, rtol=1e-4, atol=1e-6)


# --- every registered part: trained stacked, equal to fit() alone, or refused by name ---
#
# part -> registered name -> cases, each a dict of: "model" (ModelConfig fields besides the
# part itself), "train" (TrainConfig fields), "member" (the second member's own values of
# fields that may differ per member), "task" (default: the 2AFC task), "id" (of one of several
# cases of a name).
STACKED_PARTS = {
    "recurrence": {
        "dense": [{"member": {"spectral_radius": 0.8}}],
        "dale": [
            {
                "id": "first",
                "model": {"e_units": "first", "input_weights": "nonnegative"},
                "member": {"e_frac": 0.75},
            },
            {"id": "random", "model": {"e_units": "random"}, "member": {"e_frac": 0.5}},
            {"id": "random+first", "model": {"e_units": "random"}, "member": {"e_units": "first"}},
        ],
        "low_rank": [
            {"id": "rank1", "model": {"rank": 1}},
            {"id": "rank2", "model": {"rank": 2}, "member": {"spectral_radius": 0.8}},
        ],
    },
    "time_constants": {
        "scalar": [{"model": {"tau": 100.0}, "member": {"tau": 60.0}}],
        "log_uniform": [{"model": {"tau": (40.0, 200.0)}, "member": {"tau": (60.0, 100.0)}}],
        "leak": [{"model": {"tau": None, "leak": 0.2}, "member": {"leak": 0.5}}],
    },
    "activation": {
        "linear": [{}],
        "relu": [{}],
        "tanh": [{}],
        "softplus": [{"model": {"softplus_beta": 2.0}}],
        "saturating": [{"model": {"rate_max": 20.0}}],
    },
    "input_weights": {"free": [{}], "nonnegative": [{}]},
    "readout_weights": {
        "free": [{}],
        "nonnegative": [{}],
        "excitatory": [{"model": {"recurrence": "dale"}, "member": {"e_frac": 0.5}}],
        "e_only": [{"model": {"recurrence": "dale"}, "member": {"e_frac": 0.5}}],
    },
    "noise": {"gaussian": [{"member": {"sigma_rec": 0.2, "sigma_in": 0.05}}]},
    "gate": {"none": [{}]},
    "init": {
        "gaussian": [{"member": {"init": "eirnn"}}],
        "eirnn": [{"model": {"recurrence": "dale", "e_units": "random"}}],
        "brain_inspired": [{"model": {"recurrence": "low_rank", "rank": 2, "sv_decay": 0.3}}],
    },
    "init_norm": {
        "spectral_radius": [{}],
        "singular_value": [{"member": {"init_norm": "spectral_radius", "spectral_radius": 0.8}}],
    },
}
REFUSED_PARTS = {
    "gate": {"multiplicative": "ModelConfig.gate = 'multiplicative'"},
    "noise": {
        name: f"ModelConfig.noise = {name!r}"
        for name in ("spike_gamma", "spike_gauss", "spike_puregauss", "spike_csnr")
    },
}
STACKED_TRAINING = {  # TrainConfig field -> registered name -> cases
    "penalties": {
        "contrastive_margin": [
            {"train": {"penalties": (Penalty("contrastive_margin", 0.5, margin=2.0),)}}
        ],
        "rate_l1": [{"train": {"penalties": (Penalty("rate_l1", 0.1),)}}],
        "row_sum": [
            {
                "model": {"recurrence": "dale"},
                "train": {"penalties": (Penalty("row_sum", 0.5),)},
                "member": {"e_frac": 0.5},
            },
            {"id": "net", "train": {"penalties": (Penalty("row_sum", 0.5, per_sign=False),)}},
        ],
        "fixation_down": [{"train": {"penalties": (Penalty("fixation_down", 0.5),)}}],
        **{  # seed 004's penalties on a low-rank recurrence
            name: [
                {
                    "model": {"recurrence": "low_rank", "rank": 2, "activation": "tanh"},
                    "train": {"penalties": (Penalty(name, 0.05, **options),)},
                }
            ]
            for name, options in [
                ("nuclear_norm", {}),
                ("effective_rank", {"sigma": True}),
                ("spectral_target", {"rank": 2, "gamma": 0.5}),
                ("heterogeneity", {"exact": True}),
            ]
        },
    },
    "loss": {
        "cross_entropy": [{"train": {"label_smoothing": 0.1}}],
        "mse": [{"train": {"loss": "mse"}, "task": "pulse_integration"}],
        "modcog": [{"train": {"loss": "modcog", "label_smoothing": 0.1}}],
        "soft_cross_entropy": [
            {"train": {"loss": "soft_cross_entropy"}, "task": "reversal_learning"}
        ],
        **{
            name: [{"train": {"loss": name}, "task": "delayed_estimation"}]
            for name in ("l2", "sqrtl2", "rad", "exp")
        },
    },
    "optimizer": {
        "adam": [{}],
        "sgd": [{"model": {"recurrence": "dale"}, "train": {"optimizer": "sgd", "lr": 0.05}}],
        "eg": [
            {
                "id": "dale",
                "model": {"recurrence": "dale", "e_units": "random"},
                "train": {"optimizer": "eg", "lr": 0.2, "lr_other": 0.05, "weight_decay": 1e-3},
            },
            {"id": "dense", "train": {"optimizer": "eg", "lr": 0.2, "eg_momentum": 0.5}},
        ],
    },
}
TRAINING_REGISTRIES = {"penalties": PENALTIES, "loss": LOSSES, "optimizer": OPTIMIZERS}
STACKED_OPTIONS = {  # fields that are no registered part
    "train_recurrent": [{"model": {"train_recurrent": False}}],
    "bias": [{"model": {"bias": False}}],
}


def _case_spec(case, own=None) -> RunSpec:
    """The first member of ``case``; ``own``: the part's own ModelConfig field and value."""
    task = case.get("task", "perceptual_decision")
    configs = {"pulse_integration": PULSE, "delayed_estimation": WM, "reversal_learning": REVERSAL}
    task_config = configs.get(task, DECISION)
    fields = (own or {}) | case.get("model", {})
    model_config = ModelConfig(n_rec=12, sigma_rec=0.05, **fields)
    return RunSpec(task, task_config, model_config, replace(SMALL, **case.get("train", {})))


def _stacked_cases():
    for part, names in (STACKED_PARTS | STACKED_TRAINING).items():
        for name, cases in names.items():
            # the part's own field, where it is one (time constants are derived from tau/leak)
            own = {part: name} if part in {f.name for f in dataclasses.fields(ModelConfig)} else {}
            for case in cases:
                suffix = f"-{case['id']}" if "id" in case else ""
                yield pytest.param(_case_spec(case, own), case, id=f"{part}={name}{suffix}")
    for field, cases in STACKED_OPTIONS.items():
        for case in cases:
            yield pytest.param(_case_spec(case), case, id=field)


@pytest.mark.parametrize("part", sorted(PARTS))
def test_every_registered_model_part_is_stacked_or_refused(part):
    covered = set(STACKED_PARTS.get(part, {})) | set(REFUSED_PARTS.get(part, {}))
    assert covered == set(PARTS[part])
    assert not set(STACKED_PARTS.get(part, {})) & set(REFUSED_PARTS.get(part, {}))


@pytest.mark.parametrize("field", sorted(TRAINING_REGISTRIES))
def test_every_registered_training_part_is_stacked(field):
    assert set(STACKED_TRAINING[field]) == set(TRAINING_REGISTRIES[field])


@pytest.mark.parametrize(("spec", "case"), list(_stacked_cases()))
def test_many_networks_equal_single_training_per_seed(spec, case, tmp_path):
    member = case.get("member", {})
    assert set(member) <= set(MODEL_PER_MEMBER)
    other = replace(
        spec,
        seed=1,
        model_config=replace(spec.model_config, **member),
        train_config=replace(spec.train_config, lr=3e-3, weight_decay=1e-4, grad_clip=0.5),
    )
    runs = fit_many([spec, other], cache_dir=tmp_path / "many", method="stacked", workers=1)
    for s, run in zip([spec, other], runs, strict=True):
        assert run.metadata["trained_by"] == "fit_many, stacked"
        single = fit(s, cache_dir=tmp_path / "alone", progress=False)
        assert "trained_by" not in single.metadata
        assert_same_run(single, run, rtol=1e-4, atol=1e-6)
        assert_trained(run)


@pytest.mark.parametrize(
    ("part", "name", "field"),
    [(part, name, field) for part, names in REFUSED_PARTS.items() for name, field in names.items()],
)
def test_a_refused_part_is_refused_by_name(spec, tmp_path, part, name, field):
    refused = replace(spec, model_config=replace(spec.model_config, **{part: name}))
    specs = [refused, replace(refused, seed=1)]
    with pytest.raises(ValueError, match=re.escape(field) + ".*method='processes'"):
        check_stackable(specs)
    with pytest.raises(ValueError, match=re.escape(field)):
        fit_many(specs, cache_dir=tmp_path, method="stacked")
    assert not any(tmp_path.iterdir())
    assert auto_method(specs, workers=2) == "processes"


class _OtherModel(RateRNN):
    """A registered model that is not the rate RNN (the stacked path trains only that one)."""


def _model(s, **changes):
    return replace(s, model_config=replace(s.model_config, **changes))


def _train(s, **changes):
    return replace(s, train_config=replace(s.train_config, **changes))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: _model(s, n_rec=16), "ModelConfig.n_rec"),
        (lambda s: _model(s, recurrence="dense", input_weights="free"), "ModelConfig.recurrence"),
        (lambda s: _model(s, activation="tanh"), "ModelConfig.activation"),
        (lambda s: _model(s, input_weights="free"), "ModelConfig.input_weights"),
        (lambda s: _model(s, readout_weights="excitatory"), "ModelConfig.readout_weights"),
        (lambda s: _model(s, train_recurrent=False), "ModelConfig.train_recurrent"),
        (lambda s: _model(s, bias=False), "ModelConfig.bias"),
        (lambda s: _model(s, tau=(50.0, 200.0)), "ModelConfig.time_constants"),
        (lambda s: _model(s, tau=None, leak=0.2), "ModelConfig.time_constants"),
        (lambda s: _model(s, gate="multiplicative"), "ModelConfig.gate"),
        (lambda s: _train(s, n_steps=3), "TrainConfig.n_steps"),
        (lambda s: _train(s, batch_size=4), "TrainConfig.batch_size"),
        (lambda s: _train(s, penalties=Penalty("rate_l1", 0.1)), "TrainConfig.penalties"),
        (lambda s: _train(s, curriculum=CurriculumConfig()), "TrainConfig.curriculum"),
        (lambda s: _train(s, target_accuracy=0.9), "TrainConfig.target_accuracy"),
        (lambda s: _train(s, lr_plateau_factor=0.5), "TrainConfig.lr_plateau_factor"),
        (lambda s: _train(s, lr_schedule="cosine"), "TrainConfig.lr_schedule = 'cosine'"),
        (lambda s: _train(s, restore_best=True), "TrainConfig.restore_best = True"),
        (
            lambda s: RunSpec(
                "pulse_integration",
                PULSE,
                ModelConfig(n_rec=12),
                replace(s.train_config, loss="mse"),
            ),
            "RunSpec.task",
        ),
        (lambda s: replace(s, model="other"), "RunSpec.model = 'other'"),
    ],
)
def test_stacked_refuses_networks_it_cannot_stack_naming_the_field(
    spec, tmp_path, monkeypatch, change, field
):
    monkeypatch.setitem(MODELS, "other", _OtherModel)
    specs = [spec, change(replace(spec, seed=1))]
    with pytest.raises(ValueError, match=rf"{re.escape(field)}.*method='processes'"):
        check_stackable(specs)
    with pytest.raises(ValueError, match=rf"{re.escape(field)}.*method='processes'"):
        fit_many(specs, cache_dir=tmp_path, method="stacked")
    assert not any(tmp_path.iterdir())
    check_stackable([spec, replace(spec, seed=1)])  # the same pair less that change stacks


def test_only_the_fields_named_per_member_may_differ():
    model_fields = {f.name for f in dataclasses.fields(ModelConfig)}
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert set(MODEL_PER_MEMBER) <= model_fields and set(TRAIN_PER_MEMBER) <= train_fields
    architecture = {"n_in", "n_out", "n_rec", "recurrence", "rank", "activation", "gate", "bias"}
    assert not architecture & set(MODEL_PER_MEMBER)


def test_stored_members_are_loaded_and_duplicates_trained_once(spec, tmp_path, monkeypatch):
    specs = [replace(spec, seed=0), replace(spec, seed=1)]
    trained = []
    stacked = many._TRAINERS["stacked"]
    monkeypatch.setitem(
        many._TRAINERS, "stacked", lambda todo, *a: trained.append(todo) or stacked(todo, *a)
    )
    first = fit_many([*specs, specs[0]], cache_dir=tmp_path, method="stacked", progress=False)
    assert [len(todo) for todo in trained] == [2] and first[0] is first[2]

    def no_training(*args):
        pytest.fail("trained a stored run")

    for method in ("processes", "stacked", "serial"):
        monkeypatch.setitem(many._TRAINERS, method, no_training)
    for method in ("auto", "processes", "stacked", "serial"):
        again = fit_many(specs, cache_dir=tmp_path, method=method)
        assert all(run.cached for run in again)
        assert [run.history.loss for run in again] == [run.history.loss for run in first[:2]]


@pytest.mark.parametrize("method", ["stacked", "serial"])
def test_a_failing_member_is_reported_and_the_others_are_stored(spec, tmp_path, method):
    specs = [replace(spec, seed=0), diverging(spec), replace(spec, seed=1)]
    with pytest.raises(EnsembleError, match=r"seed 9, key \w+: DivergenceError.*at step 2") as info:
        fit_many(specs, cache_dir=tmp_path, method=method, progress=False)
    assert len(info.value.failures) == 1
    stored = fit_many([specs[0], specs[2]], cache_dir=tmp_path, method="serial")
    assert all(run.cached and run.history.n_steps == 16 for run in stored)
    assert not (tmp_path / specs[1].key()).exists()


def test_auto_picks_stacked_for_small_networks_else_processes(spec):
    big = replace(spec, model_config=replace(spec.model_config, n_rec=128))
    curriculum = replace(spec.train_config, curriculum=CurriculumConfig())
    seeds = [replace(spec, seed=s) for s in range(3)]
    assert auto_method(seeds[:1], workers=2) == "serial"
    assert auto_method(seeds, workers=2) == "stacked"
    assert auto_method([replace(s, train_config=curriculum) for s in seeds], 2) == "processes"
    if not torch.cuda.is_available():
        assert auto_method([replace(big, seed=s) for s in range(3)], workers=2) == "processes"
        assert auto_method([replace(big, seed=s) for s in range(3)], workers=1) == "serial"


def test_an_unknown_method_or_no_worker_is_refused(spec, tmp_path):
    with pytest.raises(ValueError, match="method='vmap'"):
        fit_many([spec], cache_dir=tmp_path, method="vmap")
    with pytest.raises(ValueError, match="workers=0"):
        fit_many([spec], cache_dir=tmp_path, workers=0)


def test_members_whose_tasks_give_different_input_sizes_are_refused(spec):
    cue = replace(spec, seed=1, task_config=replace(spec.task_config, fixation_input=True))
    with pytest.raises(ValueError, match=r"ModelConfig\.n_in differs between members \(2 vs 3\)"):
        check_stackable([spec, cue])
    finer = replace(spec, seed=1, task_config=replace(spec.task_config, dt=10.0))
    check_stackable([spec, finer])  # dt may differ per member: alpha is per member
