"""Class separation of population states: known answers."""

import pytest
import torch

from rnnbook.analysis.geometry import class_separation


def test_two_point_clouds_have_their_known_distance_spread_and_index():
    offsets = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])  # rms 1
    states = torch.cat([offsets + torch.tensor([0.0, 0.0]), offsets + torch.tensor([6.0, 8.0])])
    labels = torch.tensor([0] * 4 + [1] * 4)
    sep = class_separation(states, labels)
    assert sep.distance == pytest.approx(10.0)
    assert sep.spread == pytest.approx(1.0)
    assert sep.index == pytest.approx(10.0)
    torch.testing.assert_close(sep.centroids, torch.tensor([[0.0, 0.0], [6.0, 8.0]]))


def test_the_index_does_not_change_with_the_scale_of_the_activity():
    gen = torch.Generator().manual_seed(0)
    states, labels = torch.randn(200, 5, generator=gen), torch.arange(200) % 2
    states[labels == 1] += 1.5
    a, b = class_separation(states, labels), class_separation(7.0 * states, labels)
    assert b.distance == pytest.approx(7 * a.distance) and b.index == pytest.approx(a.index)


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="at least two classes"):
        class_separation(torch.randn(4, 3), torch.zeros(4, dtype=torch.long))
