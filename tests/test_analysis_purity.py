"""Analyses are pure and their randomness is explicit: they never change a model or advance its
own noise generator, ``evaluate`` draws its trials and noise from the ``test_trials`` and
``test_noise`` streams, the same seed gives the same numbers, and no analysis module plots."""

import ast
from pathlib import Path

import pytest
import torch

from rnnbook import analysis as an
from rnnbook.models import ModelConfig, RateRNN
from rnnbook.seeding import generator
from rnnbook.tasks import (
    PerceptualDecision,
    PerceptualDecisionConfig,
    PulseIntegration,
    PulseIntegrationConfig,
)

TASK = PerceptualDecision(PerceptualDecisionConfig(coherences=(0.1,), stimulus_ms=200.0))
PULSE = PulseIntegration(PulseIntegrationConfig(dt=20.0))
NOISY = dict(n_rec=8, dt=20.0, tau=100.0, sigma_rec=0.2, activation="tanh")
VALUES = an.SignedRates(torch.ones(8), -torch.ones(8), "coherence", 0.1, (100.0, 300.0))

ANALYSES = {  # name: (n_in = n_out of the model, the analysis)
    "evaluate": (2, lambda m: an.evaluate(m, TASK, 16)),
    "choice_log_prob": (2, lambda m: an.choice_log_prob(m, TASK, 16, seed=0)),
    "unit_lesion_costs": (2, lambda m: an.unit_lesion_costs(m, TASK, 16, seed=0)),
    "saliency": (2, lambda m: an.saliency(m, TASK, 16)),
    "lesion_comparison": (2, lambda m: an.lesion_comparison(m, TASK, [0], n_draws=2, n_trials=16)),
    "lesion_robustness": (2, lambda m: an.lesion_robustness(m, TASK, (0, 0.5), n_draws=2)),
    "clamp_swing": (2, lambda m: an.clamp_swing(m, TASK, range(8), [2], VALUES, n_draws=2)),
    "precision_by_duration": (1, lambda m: an.precision_by_duration(m, PULSE)),
    "spontaneous_rates": (1, lambda m: an.spontaneous_rates(m, duration_ms=200.0)),
    "memory_pca": (1, lambda m: an.memory_pca(m, PULSE)),
    "at_dt": (1, lambda m: an.at_dt(m, 10.0)),
}


def snapshot(model) -> dict:
    return {
        "values": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "grads": [p.grad for p in model.parameters()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "noise": model.noise_generator.get_state().clone(),
    }


def assert_unchanged(before, after):
    for k, v in before["values"].items():
        assert torch.equal(v, after["values"][k]), k
    assert (
        all(g is None for g in after["grads"]) and before["requires_grad"] == after["requires_grad"]
    )
    assert torch.equal(before["noise"], after["noise"]), "the model's own generator advanced"


@pytest.mark.parametrize("name", ANALYSES)
def test_analyses_never_change_the_model_or_its_generator(name):
    n_io, analyse = ANALYSES[name]
    model = RateRNN(ModelConfig(n_in=n_io, n_out=n_io, **NOISY), seed=0)
    before = snapshot(model)
    analyse(model)
    assert_unchanged(before, snapshot(model))


def test_evaluate_draws_its_trials_and_noise_from_the_test_streams():
    model = RateRNN(ModelConfig(n_in=2, n_out=2, **NOISY), seed=0)
    ev = an.evaluate(model, TASK, 16, seed=4)
    trials = TASK.sample(16, generator=generator(4, "test_trials"))
    assert torch.equal(ev.trials.inputs, trials.inputs)
    with torch.no_grad():
        expected = model(trials.inputs, generator=generator(4, "test_noise")).outputs
    assert torch.equal(ev.rollout.outputs, expected)
    training = TASK.sample(16, generator=generator(4, "trials"))  # not the training trials
    assert not torch.equal(ev.trials.inputs, training.inputs)


def test_the_same_seed_gives_the_same_noise_and_another_seed_other_noise():
    model = RateRNN(ModelConfig(n_in=1, n_out=1, **NOISY), seed=0)
    first, again = (an.precision_by_duration(model, PULSE, seed=1) for _ in range(2))
    other = an.precision_by_duration(model, PULSE, seed=2)
    assert (first.outputs == again.outputs).all() and (first.outputs != other.outputs).any()
    chooser = RateRNN(ModelConfig(n_in=2, n_out=2, **NOISY), seed=0)
    costs, again = (an.unit_lesion_costs(chooser, TASK, 16, seed=3) for _ in range(2))
    assert torch.equal(costs, again)


def test_at_dt_refuses_a_discrete_leak():
    leaky = RateRNN(ModelConfig(n_in=1, n_out=1, n_rec=4, dt=20.0, tau=None, leak=0.2))
    with pytest.raises(ValueError, match="discrete leak"):
        an.at_dt(leaky, 10.0)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return found | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


@pytest.mark.parametrize(
    "path", sorted(Path(an.__file__).parent.glob("*.py")), ids=lambda p: p.name
)
def test_analysis_never_plots(path):  # layering and private names: tests/test_architecture.py
    assert not any(m.startswith(("matplotlib", "rnnbook.plotting")) for m in imported_modules(path))
