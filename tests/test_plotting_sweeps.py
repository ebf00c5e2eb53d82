"""The figures of sweeps and of E/I weights draw what they are given: the mean over seeds, the
range as a band, failed runs as crosses, units sorted E first, singular values in order."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from rnnbook.plotting import (  # noqa: E402
    plot_group_curves,
    plot_singular_values,
    plot_sweep,
    plot_variants,
    plot_weight_magnitudes,
    plot_weight_signs,
)
from rnnbook.training.history import History  # noqa: E402


def axes():
    return Figure().subplots()


TABLE = pd.DataFrame(
    {
        "lr": [0.1, 0.1, 1.0, 1.0, 0.1, 0.1, 1.0, 1.0],
        "optimizer": ["a"] * 4 + ["b"] * 4,
        "seed": [0, 1] * 4,
        "status": ["trained"] * 7 + ["failed"],
        "eval_accuracy": [0.6, 0.8, 0.9, 0.7, 0.5, 0.7, 0.4, np.nan],
    }
)


def test_plot_sweep_draws_the_mean_over_seeds_and_failed_runs_as_crosses():
    ax = plot_sweep(TABLE, x="lr", hue="optimizer", ax=axes())
    lines = {line.get_label(): line for line in ax.lines}
    assert set(lines) == {"optimizer = a", "optimizer = b"}
    np.testing.assert_allclose(lines["optimizer = a"].get_ydata(), [0.7, 0.8])
    np.testing.assert_allclose(lines["optimizer = b"].get_ydata(), [0.6, 0.4])  # failed left out
    crosses = [
        c for c in ax.collections if len(c.get_offsets()) == 1 and c.get_offsets()[0][0] == 1
    ]
    assert crosses  # the failed run of b at lr 1
    assert ax.get_xscale() == "log"


def test_plot_sweep_names_a_missing_column():
    with pytest.raises(ValueError, match=r"no column 'momentum'"):
        plot_sweep(TABLE, x="momentum", ax=axes())


def test_plot_variants_draws_means_never_reached_and_failed_runs():
    table = TABLE.assign(
        variant=["ctl", "ctl", "leak", "leak"] * 2,
        steps=[100.0, 300.0, np.inf, 50.0, 10.0, 20.0, 30.0, np.nan],
    )
    ax = plot_variants(table, "variant", "steps", hue="optimizer", order=["leak", "ctl"], ax=axes())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["leak", "ctl"]
    means = sorted(round(float(c.lines[0].get_ydata()[0]), 6) for c in ax.containers)
    assert means == [15.0, 30.0, 50.0, 200.0]  # b at leak: 30 (its failed run is left out)
    markers = [
        c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets()) == 1
    ]
    triangles = [c for c in markers if c.get_offsets()[0][1] > 300]  # a's inf at leak, on top
    crosses = [c for c in markers if c.get_offsets()[0][1] == 0 and c.get_offsets()[0][0] < 0.5]
    assert len(triangles) == 1 and len(crosses) == 1  # b's failed run at leak (x < 0.5)
    with pytest.raises(ValueError, match=r"no column 'nope'"):
        plot_variants(table, "nope", "steps", ax=axes())


def _history(accuracies):
    n = len(accuracies)
    return History(
        step=list(range(1, n + 1)), loss=[1.0] * n, grad_norm=[0.0] * n,
        eval_step=list(range(n)), eval_loss=[1.0] * n, eval_accuracy=list(accuracies),
    )  # fmt: skip


def test_plot_group_curves_draws_the_mean_and_the_range():
    groups = {"GD": [_history([0.1, 0.5, 0.9]), _history([0.3, 0.7, 0.9])]}
    ax = plot_group_curves(groups, threshold=0.8, linestyle="--", suffix=", H = 8", ax=axes())
    (line,) = [line for line in ax.lines if line.get_label().startswith("GD")]
    assert line.get_label() == "GD, H = 8 (n = 2)" and line.get_linestyle() == "--"
    np.testing.assert_allclose(line.get_ydata(), [0.2, 0.6, 0.9])
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(0.1) and band.max() == pytest.approx(0.9)
    with pytest.raises(ValueError, match="choose one of"):
        plot_group_curves(groups, metric="accuracy_per_epoch", ax=axes())


def test_plot_weight_signs_sorts_the_excitatory_units_first():
    signs = torch.tensor([-1.0, 1.0, 1.0])
    weight = torch.tensor([[0.0, 1.0, 2.0], [-3.0, 4.0, 5.0], [-6.0, 7.0, 8.0]])
    ax = plot_weight_signs(weight, signs, ax=axes())
    shown = ax.images[0].get_array()
    np.testing.assert_array_equal(shown, [[4.0, 5.0, -3.0], [7.0, 8.0, -6.0], [1.0, 2.0, 0.0]])


def test_plot_singular_values_draws_them_in_decreasing_order():
    weight = torch.diag(torch.tensor([1.0, 3.0, 2.0]))
    ax = plot_singular_values({"W": weight}, ax=axes())
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [3.0, 2.0, 1.0])


def test_plot_weight_magnitudes_draws_one_histogram_per_matrix_and_population():
    signs = torch.tensor([1.0, 1.0, -1.0, -1.0])
    weights = {"a": torch.rand(4, 4) * signs, "b": torch.rand(4, 4) * signs}
    ax = plot_weight_magnitudes(weights, signs, bins=5, ax=axes())
    assert len(ax.patches) == 4
