"""Which runs can train as one stack: the same architecture and schedule, per-member rest.

Members may differ in seed, task config (trials of different lengths are zero-padded at the
end, which a causal network never sees), the ``ModelConfig`` fields that change no parameter
shape and no op (``MODEL_PER_MEMBER``) and the ``TrainConfig`` fields applied per member
(``TRAIN_PER_MEMBER``). Any other field, including fields added later, must be equal.
"""

from __future__ import annotations

import dataclasses

from rnnbook.models import MODELS, RateRNN
from rnnbook.runs import RunSpec

MODEL_PER_MEMBER = (
    "dt",
    "tau",
    "leak",
    "sigma_rec",
    "sigma_in",
    "spectral_radius",
    "e_frac",
    "e_units",
    "init",
    "init_norm",
)
TRAIN_PER_MEMBER = (
    "lr",
    "weight_decay",
    "grad_clip",
    "divergence_factor",
    "momentum",
    "lr_other",
    "eg_momentum",
    "min_magnitude",
    "label_smoothing",
    "record_accuracy",
)
# they change a member's schedule or its weights after training: field -> the value it needs
_UNSUPPORTED = {
    "curriculum": None,
    "target_accuracy": None,
    "lr_plateau_factor": None,
    "early_stop_patience": None,
    "noise_stages": None,
    "lr_schedule": "constant",
    "restore_best": False,
}


def stack_problem(specs: list[RunSpec]) -> str | None:
    """Why ``specs`` cannot train as one stack, naming the field; None if they can."""
    for spec in specs:
        problem = _unsupported(spec)
        if problem is not None:
            return problem
    for spec in specs[1:]:
        problem = _difference(specs[0], spec)
        if problem is not None:
            return problem
    return None


def _unsupported(spec: RunSpec) -> str | None:
    if MODELS[spec.model] is not RateRNN:
        return f"RunSpec.model = {spec.model!r} (the stacked path trains rate RNNs only)"
    if spec.model_config.gate != "none":
        gate = spec.model_config.gate
        return f"ModelConfig.gate = {gate!r} (the stacked path runs the ungated scan only)"
    if spec.model_config.noise != "gaussian":  # spike-count noise runs its own scan
        noise = spec.model_config.noise
        return f"ModelConfig.noise = {noise!r} (the stacked path has Gaussian noise only)"
    for name, allowed in _UNSUPPORTED.items():
        value = getattr(spec.train_config, name)
        if value != allowed:
            return f"TrainConfig.{name} = {value!r} (seed {spec.seed})"
    return None


def _difference(first: RunSpec, spec: RunSpec) -> str | None:
    if spec.task != first.task:
        return f"RunSpec.task differs between members ({first.task!r} vs {spec.task!r})"
    kinds = (first.model_config.time_constants, spec.model_config.time_constants)
    if kinds[0] != kinds[1]:
        return (
            f"ModelConfig.time_constants differs between members ({kinds[0]!r} vs "
            f"{kinds[1]!r}: tau {first.model_config.tau!r} vs {spec.model_config.tau!r})"
        )
    parts = (("resolved_model_config", MODEL_PER_MEMBER), ("train_config", TRAIN_PER_MEMBER))
    for part, free in parts:
        ours, theirs = getattr(first, part), getattr(spec, part)
        for f in dataclasses.fields(ours):
            a, b = getattr(ours, f.name), getattr(theirs, f.name)
            if f.name not in free and a != b:
                return (
                    f"{type(ours).__name__}.{f.name} differs between members ({a!r} vs {b!r}); "
                    f"only {', '.join(free)} may differ"
                )
    return None


def check_stackable(specs: list[RunSpec]) -> None:
    """Raise ValueError naming the field that keeps ``specs`` from training as one stack."""
    problem = stack_problem(specs)
    if problem is not None:
        raise ValueError(
            f"method='stacked' cannot train these runs: {problem}; use method='processes'"
        )
