"""Figures of causal perturbations: they draw what they are given on the given Axes."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from test_plotting import close_figures, given_axes, other_axes  # noqa: E402, F401

from rnnbook.analysis.perturbation import LesionComparison, LesionCurve, Saliency  # noqa: E402
from rnnbook.plotting.perturbation import (  # noqa: E402
    plot_lesion_comparison,
    plot_lesion_cost,
    plot_lesion_robustness,
    plot_saliency,
    plot_targeted_vs_random,
)
from rnnbook.plotting.style import color_for  # noqa: E402


@pytest.fixture
def ax(other_axes):  # noqa: F811 (the fixture imported above)
    """Axes of a figure outside pyplot, while pyplot's current Axes must stay untouched."""
    return given_axes(other_axes)


def make_saliency(scores) -> Saliency:
    scores = torch.tensor(scores, dtype=torch.float32)
    return Saliency(scores=scores, order=torch.argsort(scores, descending=True))


def comparison(k: int, targeted: float, random) -> LesionComparison:
    return LesionComparison(torch.arange(k), 0.8, targeted, torch.tensor(random))


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_saliency_bars_sorted_and_top_k_highlighted(ax):
    scores = [0.1, -0.2, 0.5, 0.3, 0.0]
    assert plot_saliency(make_saliency(scores), k=2, ax=ax) is ax
    top, rest = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(top) == 2 and len(rest) == 3
    heights = [bar.get_height() for bar in (*top, *rest)]
    np.testing.assert_allclose(heights, sorted(scores, reverse=True), rtol=1e-6)
    assert [bar.get_x() + bar.get_width() / 2 for bar in top] == [1, 2]  # ranks from 1
    assert top[0].get_facecolor() != rest[0].get_facecolor()
    assert legend_texts(ax) == ["top 2", "other units"]
    assert ax.get_xlabel() == "unit rank"


def test_saliency_without_k_has_one_series_and_no_legend():
    ax = plot_saliency(make_saliency([0.3, 0.1, 0.2]))
    assert len(ax.containers) == 1 and len(ax.patches) == 3
    assert ax.get_legend() is None
    with pytest.raises(ValueError, match="k = 4"):
        plot_saliency(make_saliency([0.3, 0.1, 0.2]), k=4)


def test_lesion_cost_scatter(ax):
    saliency = make_saliency([0.1, -0.2, 0.5, 0.3])
    costs = torch.tensor([0.2, -0.1, 0.6, 0.3])
    assert plot_lesion_cost(saliency, costs, k=2, ax=ax) is ax
    other, top = ax.collections
    np.testing.assert_allclose(top.get_offsets(), [[0.5, 0.6], [0.3, 0.3]], rtol=1e-6)
    np.testing.assert_allclose(other.get_offsets(), [[0.1, 0.2], [-0.2, -0.1]], rtol=1e-6)
    identity = ax.lines[-1]
    np.testing.assert_allclose(identity.get_xdata(), identity.get_ydata())
    assert legend_texts(ax) == ["cost = saliency", "other units", "top 2"]
    with pytest.raises(ValueError, match="one per unit"):
        plot_lesion_cost(saliency, costs[:3])


def test_targeted_vs_random(ax):
    random = [[0.7, 0.8, 0.9], [0.5, 0.6, 0.7]]
    returned = plot_targeted_vs_random(
        [2, 10], [0.6, 0.3], random, baseline=0.9, labels=("top", "rnd"), ylabel="y", ax=ax
    )
    assert returned is ax
    assert len(ax.collections) >= 2  # one dot cloud per size (plus the error bars)
    clouds = [c for c in ax.collections if len(c.get_offsets()) == 3]
    np.testing.assert_allclose(clouds[1].get_offsets(), [[10, 0.5], [10, 0.6], [10, 0.7]])
    targeted = ax.lines[-1]
    np.testing.assert_allclose(targeted.get_xdata(), [2, 10])
    np.testing.assert_allclose(targeted.get_ydata(), [0.6, 0.3])
    mean = [line for line in ax.lines if line.get_marker() == "s"][0]
    np.testing.assert_allclose(mean.get_ydata(), [0.8, 0.6])
    assert legend_texts(ax) == ["intact", "top", "rnd"]
    np.testing.assert_allclose(ax.get_xticks(), [2, 10])
    assert ax.get_ylabel() == "y"
    with pytest.raises(ValueError, match="one per size"):
        plot_targeted_vs_random([2, 10], [0.6], random)


def test_lesion_comparison_sorted_by_size(ax):
    comparisons = {10: comparison(10, 0.5, [0.7, 0.75]), 2: comparison(2, 0.78, [0.8, 0.79])}
    assert plot_lesion_comparison(comparisons, label="salient", ax=ax) is ax
    chance, intact = ax.lines[:2]
    assert chance.get_ydata()[0] == 0.5 and intact.get_ydata()[0] == 0.8
    targeted = ax.lines[-1]
    np.testing.assert_allclose(targeted.get_xdata(), [2, 10])
    np.testing.assert_allclose(targeted.get_ydata(), [0.78, 0.5])
    assert legend_texts(ax) == ["intact", "salient", "random"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("units lesioned", "accuracy")
    as_list = plot_lesion_comparison(list(comparisons.values()), chance=None)
    assert len(as_list.lines) == len(ax.lines) - 1  # no chance line
    with pytest.raises(ValueError, match="empty"):
        plot_lesion_comparison([])


def test_lesion_robustness_band_and_labels(ax):
    accuracy = torch.tensor([[0.9, 0.9, 0.9], [0.8, 0.7, 0.9], [0.6, 0.5, 0.7]])
    curve = LesionCurve(torch.tensor([0.0, 0.2, 0.4]), accuracy)
    assert plot_lesion_robustness(curve, label="gating", chance=0.5, ax=ax) is ax
    mean = ax.lines[-1]
    np.testing.assert_allclose(mean.get_xdata(), [0.0, 0.2, 0.4])
    np.testing.assert_allclose(mean.get_ydata(), [0.9, 0.8, 0.6], rtol=1e-6)
    assert mean.get_color() == color_for("gating")
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(0.5, abs=1e-6)  # 0.6 - sd 0.1 at 40 %
    assert band[:, 1].max() == pytest.approx(0.9, abs=1e-6)
    assert legend_texts(ax) == ["gating"]
    plot_lesion_robustness(curve, label="acg", color="#123456", ax=ax)  # a second network
    assert ax.lines[-1].get_color() == "#123456" and len(ax.collections) == 2
    assert legend_texts(ax) == ["gating", "acg"]
    unlabelled = plot_lesion_robustness(LesionCurve(curve.fractions, accuracy[:, :1]))
    assert unlabelled.get_legend() is None and unlabelled.get_xlabel().startswith("fraction")
