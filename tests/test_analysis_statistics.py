"""Descriptive statistics and weight geometry against closed-form answers: the roughness of
trajectories, and the signed participation ratio under random sign conventions."""

import numpy as np
import pytest
import torch

from rnnbook.analysis import participation_ratio, roughness, signed_ratios_over_signs


def test_a_straight_line_at_constant_speed_has_roughness_0():
    t = np.arange(50.0)[None, :, None]  # [1, T, 1]
    line = np.concatenate([2.0 * t + 1.0, -0.5 * t], axis=2)  # [1, T, 2]
    assert roughness(np.concatenate([line, 3 * line])) == 0.0


@pytest.mark.parametrize("step", [0.05, 0.3, 1.0])
def test_a_circle_has_roughness_4_sin2_of_half_its_angular_step(step):
    angle = step * np.arange(40)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1)[None]  # [1, T, 2]
    assert roughness(circle) == pytest.approx(4 * np.sin(step / 2) ** 2, rel=1e-12)
    assert roughness(torch.as_tensor(5.0 * circle)) == pytest.approx(roughness(circle))


def test_independent_noise_has_roughness_3():
    # var(x[t+2] - 2 x[t+1] + x[t]) = 6 s^2 and var(x[t+1] - x[t]) = 2 s^2
    noise = np.random.default_rng(0).normal(size=(8, 20_000, 3))
    assert roughness(noise) == pytest.approx(3.0, rel=0.01)


def test_roughness_refuses_bad_shapes_and_still_trajectories():
    with pytest.raises(ValueError, match=r"\[C, T >= 3, k\]"):
        roughness(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="never move"):
        roughness(np.ones((2, 10, 3)))


def coefficients_basis(c):
    """The identity components [k, k] and a vector whose projections on them are ``c``."""
    return np.asarray(c, dtype=float), np.eye(len(c))


def test_the_signed_ratio_of_one_component_is_1_whatever_the_sign():
    vector, comps = coefficients_basis([-2.0])
    ratios = signed_ratios_over_signs(vector, comps, 20, generator=torch.Generator().manual_seed(0))
    assert ratios.shape == (20,) and np.allclose(ratios, 1.0)


def test_signed_ratios_span_every_sign_convention_up_to_the_aligned_one():
    vector, comps = coefficients_basis([1.0, -2.0, 0.5])
    generator = torch.Generator().manual_seed(1)
    ratios = signed_ratios_over_signs(vector, comps, 400, generator=generator)
    c = np.abs(vector)
    sums = {abs(a * c[0] + b * c[1] + d * c[2]) for a in (1, -1) for b in (1, -1) for d in (1, -1)}
    expected = sorted(s**2 / (c**2).sum() for s in sums)  # 4 distinct values of 8 conventions
    assert np.allclose(sorted(set(np.round(ratios, 12))), expected)
    assert ratios.max() == pytest.approx(c.sum() ** 2 / (c**2).sum())  # all signs aligned
    assert participation_ratio(vector, comps).ratio == pytest.approx(
        (c**2).sum() ** 2 / (c**4).sum()
    )
    again = signed_ratios_over_signs(vector, comps, 400, generator=torch.Generator().manual_seed(1))
    assert np.array_equal(ratios, again)
