"""The seed plan: one seed, named independent streams, the same numbers in one process or two."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from rnnbook.seeding import STREAMS, Seeds, check_seed, device_generator, generator

# Trains a tiny network from one seed (fit, in a fresh cache) and analyses it on the analysis
# streams; prints what came out. Run here and in a second Python process.
SCRIPT = """
import hashlib, json, sys, tempfile
import torch
from rnnbook.analysis import evaluate
from rnnbook.models import ModelConfig
from rnnbook.runs import RunSpec, fit
from rnnbook.tasks import TASKS, PerceptualDecisionConfig
from rnnbook.training import TrainConfig

def outcome(seed):
    spec = RunSpec("perceptual_decision", PerceptualDecisionConfig(),
                   ModelConfig(n_rec=12, sigma_rec=0.1),
                   TrainConfig(n_steps=6, batch_size=8, eval_every=3, eval_batch_size=16),
                   seed=seed)
    with tempfile.TemporaryDirectory() as cache:
        run = fit(spec, cache_dir=cache, progress=False)
    weights = b"".join(t.numpy().tobytes() for t in run.model.state_dict().values())
    ev = evaluate(run.model, TASKS[spec.task](spec.task_config), 64, seed=seed)
    return {"loss": run.history.loss, "eval": run.history.eval_loss,
            "weights": hashlib.sha256(weights).hexdigest(),
            "outputs": hashlib.sha256(ev.rollout.outputs.numpy().tobytes()).hexdigest()}

print(json.dumps(outcome(int(sys.argv[1]))))
"""


def _outcome_here(seed: int) -> dict:
    namespace = {"__name__": "seeded"}
    exec(
        compile(SCRIPT.replace("print(json.dumps(outcome(int(sys.argv[1]))))", ""), "s", "exec"),
        namespace,
    )
    return namespace["outcome"](seed)


def _outcome_elsewhere(seed: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(seed)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_same_seed_same_numbers_in_one_process_and_in_two():
    here, again, other = _outcome_here(5), _outcome_here(5), _outcome_here(6)
    assert here == again
    assert here["weights"] != other["weights"] and here["loss"] != other["loss"]
    assert _outcome_elsewhere(5) == here


def test_streams_are_distinct_and_reproducible():
    seeds = Seeds.from_seed(11)
    draws = {s: torch.rand(4, generator=seeds.generator(s)) for s in STREAMS}
    assert len({tuple(d.tolist()) for d in draws.values()}) == len(STREAMS)
    again = torch.rand(4, generator=generator(11, "test_trials"))
    assert torch.equal(draws["test_trials"], again)


def test_adding_streams_keeps_the_first_four_as_they_were():
    # the first four streams are SeedSequence children 0-3, whatever the number of streams:
    # init, trials (was "task"), noise and validation (was "eval") keep their values
    children = np.random.SeedSequence(3).spawn(4)
    old = [int(c.generate_state(1, dtype=np.uint64)[0] >> 1) for c in children]
    seeds = Seeds.from_seed(3)
    assert [seeds.init, seeds.trials, seeds.noise, seeds.validation] == old


def test_spawned_generators_are_independent_and_reproducible():
    seeds = Seeds.from_seed(2)
    a = [torch.rand(3, generator=g) for g in seeds.spawn("lesions", 3)]
    b = [torch.rand(3, generator=g) for g in seeds.spawn("lesions", 3)]
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0], a[1])


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_a_seed_is_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match=r"seed = .* integer >= 0"):
        check_seed(bad)


def test_unknown_streams_are_refused_by_name():
    with pytest.raises(ValueError, match="'eval' is unknown.*test_trials"):
        Seeds.from_seed(0).generator("eval")


def test_a_device_generator_on_its_own_device_is_itself():
    gen = torch.Generator().manual_seed(0)
    assert device_generator(gen, "cpu") is gen
