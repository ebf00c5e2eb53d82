"""Saving and loading analysis results: every field comes back equal (values, dtypes, types),
files are written atomically and read with ``torch.load(weights_only=True)``."""

import math
import os

import numpy as np
import pytest
import torch

from rnnbook.analysis import (
    ClampSwing,
    ClassSeparation,
    ConditionAccuracy,
    Correlation,
    DurationPrecision,
    FixedPoints,
    LesionComparison,
    LesionCurve,
    Participation,
    Result,
    Saliency,
    SaliencyCheck,
    SignedRates,
    TrajectoryPCA,
    fit_psychometric,
)
from rnnbook.analysis import pca as fit_pca
from rnnbook.analysis.results import FORMAT

GEN = np.random.default_rng(0)
TORCH_GEN = torch.Generator().manual_seed(0)


def rand(*shape, dtype=torch.float32) -> torch.Tensor:
    return torch.rand(*shape, generator=TORCH_GEN, dtype=dtype)


def fixed_points() -> FixedPoints:
    eigvals = torch.complex(rand(3, 2, dtype=torch.float64) - 0.5, torch.zeros(3, 2).double())
    return FixedPoints(
        x=rand(3, 2, dtype=torch.float64) - 0.5,
        q=torch.tensor([1e-14, 1e-12, 3e-11], dtype=torch.float64),
        jacobian=rand(3, 2, 2, dtype=torch.float64) - 0.5,
        eigvals=eigvals,
        is_stable=torch.tensor([True, False, True]),
        inputs=torch.zeros(3, 2, dtype=torch.float64),
        n_initial=81,
        tol_q=1e-10,
        rates=rand(3, 2, dtype=torch.float64) - 0.5,
        gains=None,
    )


def psychometric():
    s = GEN.choice([-0.2, -0.1, 0.0, 0.1, 0.2], 400)
    return fit_psychometric(s, (GEN.random(400) < 1 / (1 + np.exp(-10 * s))).astype(int))


def trajectory_pca() -> TrajectoryPCA:
    fitted = fit_pca(GEN.normal(size=(50, 4)), 2)
    levels, projections = np.array([-0.1, 0.1]), GEN.normal(size=(2, 5, 2))
    return TrajectoryPCA("coherence", levels, projections, np.arange(5) * 20.0, (1, 4), fitted)


def condition_accuracy() -> ConditionAccuracy:
    levels, accuracy, n_trials = np.array([0.0, 0.2]), np.array([0.5, 0.9]), np.array([10, 20])
    sem, trial_levels, trial_correct = np.array([0.16, 0.07]), GEN.random(30), GEN.random(30) > 0.3
    return ConditionAccuracy(
        "coherence", True, levels, accuracy, n_trials, sem, trial_levels, trial_correct
    )


def clamp_swing() -> ClampSwing:
    draws = [
        torch.tensor([[0], [4], [2]]),
        torch.tensor([[1, 5], [0, 2], [3, 4]]),
    ]  # [n_draws, k] per k
    targeted, random = rand(2, 2), rand(2, 2, 3)
    return ClampSwing(torch.tensor([1, 2]), 0.5, *targeted, *random, draws)


def duration_precision() -> DurationPrecision:
    durations, mse = GEN.random(3), GEN.random(3)
    return DurationPrecision(durations, mse, *(GEN.random((3, 7)) for _ in range(5)))


RESULTS = {
    "FixedPoints": fixed_points,
    "Psychometric": psychometric,
    "LesionComparison": lambda: LesionComparison(
        torch.tensor([3, 1]),
        0.95,
        0.6,
        rand(5),
        torch.tensor([[0, 7], [2, 3], [6, 1], [4, 5], [3, 0]]),
    ),
    "LesionComparison without draws": lambda: LesionComparison(
        torch.tensor([3]), 0.9, 0.7, rand(4)
    ),
    "LesionCurve": lambda: LesionCurve(torch.tensor([0.0, 0.5]), rand(2, 3)),
    "Saliency": lambda: Saliency(rand(6) - 0.5, torch.tensor([2, 0, 5, 1, 4, 3])),
    "SaliencyCheck": lambda: SaliencyCheck(2, 0.9, 0.8, 1, 0.4, 0.5, 2),
    "PCA": lambda: fit_pca(GEN.normal(size=(20, 5)), 3),
    "TrajectoryPCA (a PCA inside)": trajectory_pca,
    "ConditionAccuracy": condition_accuracy,
    "ClassSeparation": lambda: ClassSeparation(rand(2, 4) - 0.5, 3.0, 1.5, 2.2, 0.1),
    "Correlation": lambda: Correlation(0.9, 1e-5, 0.8, 2e-4, 20),
    "Participation": lambda: Participation(GEN.normal(size=4), 2.5, 0.3, 0.9),
    "DurationPrecision": duration_precision,
    "SignedRates": lambda: SignedRates(rand(4), rand(4), "coherence", 0.2, (10.0, 60.0)),
    "ClampSwing": clamp_swing,
}


def assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    elif isinstance(a, Result):
        for name in a.__dataclass_fields__:
            assert_same(getattr(a, name), getattr(b, name))
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        assert a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("name", RESULTS)
def test_every_field_survives_a_round_trip(name, tmp_path):
    result = RESULTS[name]()
    path = result.save(tmp_path / "result.pt")
    assert path == tmp_path / "result.pt" and os.listdir(tmp_path) == ["result.pt"]
    loaded = type(result).load(path)
    assert_same(result, loaded)
    payload = torch.load(path, weights_only=True)  # only plain types and tensors inside
    assert payload["format"] == FORMAT


def test_loading_the_wrong_kind_of_file_is_refused(tmp_path):
    Correlation(0.9, 1e-5, 0.8, 2e-4, 20).save(tmp_path / "c.pt")
    with pytest.raises(ValueError, match="holds a Correlation, not a Saliency"):
        Saliency.load(tmp_path / "c.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "w.pt")
    with pytest.raises(ValueError, match="not a saved rnnbook analysis result"):
        Correlation.load(tmp_path / "w.pt")


class Payload:
    """An arbitrary class: weights_only loading must not unpickle it."""


def test_files_are_read_without_running_pickled_code(tmp_path):
    torch.save({"format": FORMAT, "version": 1, "result": Payload()}, tmp_path / "bad.pt")
    with pytest.raises(Exception, match="[Ww]eights only load failed|Unsupported global"):
        Correlation.load(tmp_path / "bad.pt")


def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = Correlation(0.9, 1e-5, 0.8, 2e-4, 20).save(tmp_path / "c.pt")
    before = path.read_bytes()

    def broken_save(obj, file):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        Correlation(0.1, 0.5, 0.1, 0.5, 5).save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.pt"]


def test_unsupported_values_are_refused_with_their_type(tmp_path):
    with pytest.raises(TypeError, match="cannot save a value of type object"):
        LesionCurve(torch.zeros(1), object()).save(tmp_path / "x.pt")
    assert os.listdir(tmp_path) == []
