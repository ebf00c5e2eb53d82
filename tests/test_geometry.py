"""Class separation of population states: known answers."""

import math

import numpy as np
import pytest
import torch
from sklearn.covariance import ledoit_wolf

from rnnbook.analysis.geometry import class_separation, ledoit_wolf_covariance


def test_two_point_clouds_have_their_known_distance_spread_and_index():
    offsets = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])  # rms 1
    states = torch.cat([offsets + torch.tensor([0.0, 0.0]), offsets + torch.tensor([6.0, 8.0])])
    labels = torch.tensor([0] * 4 + [1] * 4)
    sep = class_separation(states, labels)
    assert sep.distance == pytest.approx(10.0)
    assert sep.spread == pytest.approx(1.0)
    # pooled covariance 4 / nu = 2/3 on each axis, uncorrelated (nu = 8 - 2), so D^2 = 150,
    # and the unbiased d'^2 = (nu - N - 1) / nu * D^2 - N (1/4 + 1/4) = 3/6 * 150 - 1 = 74
    assert sep.index == pytest.approx(math.sqrt(74.0))
    assert sep.shrinkage == 0.0
    torch.testing.assert_close(sep.centroids, torch.tensor([[0.0, 0.0], [6.0, 8.0]]))


def test_the_index_does_not_change_with_the_scale_of_the_activity():
    gen = torch.Generator().manual_seed(0)
    states, labels = torch.randn(200, 5, generator=gen), torch.arange(200) % 2
    states[labels == 1] += 1.5
    a, b = class_separation(states, labels), class_separation(7.0 * states, labels)
    assert b.distance == pytest.approx(7 * a.distance) and b.index == pytest.approx(a.index)


def _two_gaussian_classes(n_per_class: int, n_noise: int, seed: int):
    """Two classes of correlated 2-D Gaussians whose d' is 3, then ``n_noise`` units of pure
    N(0, 1) noise: [2 n, 2 + n_noise] states and [2 n] labels."""
    gen = torch.Generator().manual_seed(seed)
    cov = torch.tensor([[1.0, 0.6], [0.6, 1.0]], dtype=torch.float64)
    # along (1, -1) the variance is 0.4: d'^2 = 2 a^2 / 0.4 = 5 a^2 = 9
    shift = 3 / math.sqrt(5) * torch.tensor([1.0, -1.0], dtype=torch.float64)
    labels = torch.arange(2 * n_per_class) % 2
    signal = torch.randn(2 * n_per_class, 2, generator=gen, dtype=torch.float64)
    signal = signal @ torch.linalg.cholesky(cov).T + labels[:, None] * shift
    noise = torch.randn(2 * n_per_class, n_noise, generator=gen, dtype=torch.float64)
    return torch.cat([signal, noise], dim=1), labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_known_d_prime_is_recovered_and_unchanged_by_noise_dimensions(seed):
    states, labels = _two_gaussian_classes(2000, 126, seed)
    two_d = class_separation(states[:, :2], labels).index
    all_128 = class_separation(states, labels).index
    # the sampling SD of d' here is about sqrt(2 / 2000 + 9 / 8000) = 0.046
    assert two_d == pytest.approx(3.0, abs=0.15)
    assert all_128 == pytest.approx(two_d, abs=0.1)
    # what the index used to be (centroid distance over the summed spread) falls with noise
    old = class_separation(states, labels)
    assert old.distance / old.spread < 0.2


def test_the_d_prime_is_unbiased_over_many_small_samples():
    # 40 trials per class in 10 units: the plain sample D^2 would be ~ 1.18 * (9 + 0.5)
    values = [
        class_separation(*_two_gaussian_classes(40, 8, seed)).index ** 2 for seed in range(200)
    ]
    assert np.mean(values) == pytest.approx(9.0, rel=0.06)


def test_units_outnumbering_trials_shrink_the_covariance():
    states, labels = _two_gaussian_classes(30, 126, seed=0)  # 60 trials, 128 units
    sep = class_separation(states, labels)
    assert 0 < sep.shrinkage <= 1 and math.isfinite(sep.index) and sep.index > 0


@pytest.mark.parametrize("shape", [(50, 10), (20, 100), (1000, 3)])
def test_ledoit_wolf_equals_sklearn(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) @ rng.standard_normal((shape[1], shape[1]))
    x -= x.mean(0)
    ours, intensity = ledoit_wolf_covariance(x)
    theirs, expected = ledoit_wolf(x, assume_centered=True)
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert intensity == pytest.approx(expected)


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="at least two classes"):
        class_separation(torch.randn(4, 3), torch.zeros(4, dtype=torch.long))
