"""Figure functions: they draw on the Axes they are given, return it, and share one style."""

import dataclasses
import zlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from test_analysis import drifting_evaluation, make_evaluation, simulate_choices  # noqa: E402

from rnnbook.analysis import accuracy_by_condition, fit_psychometric, trajectory_pca  # noqa: E402
from rnnbook.plotting import (  # noqa: E402
    REGIME_COLORS,
    STYLE_PATH,
    color_for,
    colors_for,
    moving_average,
    plot_accuracy_by_condition,
    plot_learning_curves,
    plot_psychometric,
    plot_trajectories,
    use_style,
)
from rnnbook.plotting.style import PALETTE  # noqa: E402
from rnnbook.plotting.trajectories import SIGNED_CMAP  # noqa: E402
from rnnbook.training.history import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def other_axes():
    """pyplot's current Axes during a test: no plotting function may draw on it."""
    fig, ax = plt.subplots()
    yield ax
    assert not ax.lines and not ax.collections and not ax.patches and not ax.get_legend()
    assert len(fig.axes) == 1


def given_axes(other_axes):
    """Axes of a figure outside pyplot, so the other figure stays the current one."""
    ax = Figure().subplots()
    assert plt.gca() is other_axes
    return ax


def history(n=200, events=()):
    steps = list(range(n))
    loss = list(np.exp(-np.arange(n) / 50.0) + 0.1)
    evals = list(range(0, n, 50))
    return History(steps, loss, [0.0] * n, evals, [0.0] * 4, [0.5, 0.7, 0.8, 0.9], list(events))


def test_moving_average_known_values():
    np.testing.assert_allclose(moving_average([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(moving_average([1, 2, 3], 1), [1, 2, 3])
    np.testing.assert_allclose(moving_average([2, 4], 10), [2, 3])


def test_learning_curves_loss(other_axes):
    ax = given_axes(other_axes)
    runs = {"baseline": history(), "curriculum": history(events=[(100, "coherence 0.2")])}
    assert plot_learning_curves(runs, smooth=5, ax=ax) is ax
    assert len(ax.lines) == 2 and ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), moving_average(runs["baseline"].loss, 5))
    assert ax.lines[0].get_color() == REGIME_COLORS["baseline"]
    assert len(ax.collections) == 1  # the curriculum event marker
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["baseline", "curriculum"]


def test_learning_curves_accuracy(other_axes):
    ax = plot_learning_curves({"a": history(), "b": history()}, metric="accuracy", chance=0.5)
    assert ax.figure is not other_axes.figure
    assert len(ax.lines) == 3  # two runs and the chance line
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 50, 100, 150])
    assert ax.lines[0].get_color() != ax.lines[1].get_color()
    with pytest.raises(ValueError, match="metric"):
        plot_learning_curves(history(), metric="grad")


def test_psychometric_plot(other_axes):
    rng = np.random.default_rng(0)
    curves = {
        "baseline": fit_psychometric(*simulate_choices(500, 0.0, 8.0, rng)),
        "noisy": fit_psychometric(*simulate_choices(500, 0.0, 4.0, rng)),
    }
    ax = given_axes(other_axes)
    assert plot_psychometric(curves, ax=ax) is ax
    assert len(ax.lines) == 2 + 2 * 2  # guides at 0.5 and 0, then data points + fit per curve
    fitted = ax.lines[3]
    np.testing.assert_allclose(fitted.get_ydata(), curves["baseline"].predict(fitted.get_xdata()))
    np.testing.assert_allclose(ax.lines[2].get_ydata(), curves["baseline"].p_choice)
    assert ax.get_xlabel() == "signed coherence" and ax.get_ylabel() == "P(choose right)"
    single = plot_psychometric(curves["noisy"])
    assert len(single.lines) == 4 and single.get_legend() is None


def test_accuracy_plot(other_axes):
    ev = make_evaluation([-0.1, 0.1, 0.2, -0.2], correct=[1, 0, 1, 1])
    acc = accuracy_by_condition(ev)
    ax = given_axes(other_axes)
    assert plot_accuracy_by_condition({"a": acc, "b": acc}, ax=ax) is ax
    assert len(ax.lines) == 3  # chance + one per result
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.5, 1.0])
    assert ax.get_xlabel() == "|coherence|"


def test_trajectory_plot(other_axes):
    ev, _ = drifting_evaluation(np.random.default_rng(1))
    result = trajectory_pca(ev, use="states")
    ax = given_axes(other_axes)
    assert plot_trajectories(result, components=(0, 2), ax=ax) is ax
    assert len(ax.lines) == len(result.levels) == 4
    np.testing.assert_allclose(ax.lines[0].get_xdata(), result.projections[0, :, 0])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), result.projections[0, :, 2])
    # levels -0.2, -0.1, 0.1, 0.2 on [-0.2, 0.2], drawn strongest first: -0.2, 0.2, -0.1, 0.1
    np.testing.assert_allclose(ax.lines[0].get_color(), SIGNED_CMAP(0.0))
    np.testing.assert_allclose(ax.lines[1].get_color(), SIGNED_CMAP(1.0))
    np.testing.assert_allclose(ax.lines[3].get_color(), SIGNED_CMAP(0.75))
    np.testing.assert_allclose(ax.lines[3].get_xdata(), result.projections[2, :, 0])
    assert ax.get_aspect() == 1.0  # PC units on both axes: geometry undistorted
    ratio = result.explained_variance_ratio[0]
    assert ax.get_xlabel() == f"PC1 ({100 * ratio:.0f}% var)"
    assert ax.get_ylabel().startswith("PC3 (")
    colorbar_axes = [a for a in ax.figure.axes if a is not ax]
    assert len(colorbar_axes) == 1 and colorbar_axes[0].get_ylabel() == "coherence"
    ticks = [t.get_text() for t in colorbar_axes[0].get_yticklabels()]
    assert ticks == ["−0.2", "−0.1", "0.1", "0.2"] or ticks == ["-0.2", "-0.1", "0.1", "0.2"]
    with pytest.raises(ValueError, match="components"):
        plot_trajectories(result, components=(0, 0))


def relative_luminance(color) -> float:
    """WCAG relative luminance of an RGB(A) colour: 0 black, 1 white."""
    rgb = np.asarray(matplotlib.colors.to_rgb(color))
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def test_level_positions_spread_weak_levels():
    from rnnbook.plotting.trajectories import level_positions

    # unevenly spaced levels get evenly spaced colours, 0 in the middle
    np.testing.assert_allclose(
        level_positions([-0.7, -0.01, 0.0, 0.01, 0.1, 0.7]), [0, 1 / 3, 0.5, 2 / 3, 5 / 6, 1]
    )
    np.testing.assert_allclose(level_positions([0.0, 0.0]), [0.5, 0.5])


def test_trajectory_colorbar_labels_ends_zero_and_every_other_level():
    ev, _ = drifting_evaluation(np.random.default_rng(1))
    result = trajectory_pca(ev, use="states")
    levels = np.array([-0.7, -0.5, -0.3, -0.1, -0.05, -0.0, 0.05, 0.1, 0.3, 0.5, 0.7])
    result = dataclasses.replace(result, levels=levels, projections=np.zeros((11, 30, 3)) + 1.0)
    result.projections[:, :, 0] += np.arange(30)
    ax = plot_trajectories(result)
    bar = [a for a in ax.figure.axes if a is not ax][0]
    labels = [t.get_text().replace("−", "-") for t in bar.get_yticklabels()]
    assert labels == ["-0.7", "", "", "-0.1", "", "0", "", "0.1", "", "", "0.7"]


def test_trajectory_colors_stay_dark_on_white():
    assert relative_luminance("white") == pytest.approx(1.0)
    assert all(relative_luminance(SIGNED_CMAP(x)) < 0.35 for x in np.linspace(0, 1, 101))
    ev, _ = drifting_evaluation(np.random.default_rng(1))
    ax = plot_trajectories(trajectory_pca(ev, use="states"), colorbar=False)
    assert all(relative_luminance(line.get_color()) <= 0.85 for line in ax.lines)


def test_style_and_colors():
    assert STYLE_PATH.exists()
    with matplotlib.rc_context():
        use_style()
        assert not plt.rcParams["axes.spines.top"] and not plt.rcParams["axes.spines.right"]
        assert plt.rcParams["savefig.dpi"] == 150 and plt.rcParams["figure.dpi"] == 110
        assert plt.rcParams["figure.constrained_layout.use"]
    assert color_for("Baseline") == color_for("baseline") == REGIME_COLORS["baseline"]
    assert color_for("my run") == PALETTE[zlib.crc32(b"my_run") % len(PALETTE)]
    named = colors_for(["noisy", "run a", "run b", "run c"])
    assert named[0] == REGIME_COLORS["noisy"] and len(set(named)) == 4
