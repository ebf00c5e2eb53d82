"""Known answers the pages rely on: the fixed-point finder's Jacobian of a gated Dale network
against finite differences, the roughness of trajectories, and the convergence of ``at_dt``
as the time step shrinks."""

import copy
import math

import pytest
import torch

from rnnbook.analysis.evaluation import at_dt
from rnnbook.analysis.fixed_points import find_fixed_points, sample_states
from rnnbook.analysis.statistics import roughness
from rnnbook.models import ModelConfig, RateRNN

GATED_DALE = dict(
    recurrence="dale",
    input_weights="nonnegative",
    readout_weights="nonnegative",
    gate="multiplicative",
)


def _central_differences(f, x: torch.Tensor, h: float = 1e-6) -> torch.Tensor:
    """[N, N] d f_i / d x_j of ``f: [N] -> [N]`` by central differences."""
    eye = torch.eye(len(x), dtype=x.dtype)
    return torch.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in eye], dim=1)


@pytest.mark.parametrize("activation", ["relu", "softplus", "tanh"])
def test_the_jacobian_of_a_gated_dale_network_equals_finite_differences(activation):
    config = ModelConfig(n_in=2, n_out=2, n_rec=24, dt=20.0, activation=activation, **GATED_DALE)
    model = RateRNN(config, seed=3)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        model.bias.normal_(0.0, 0.5, generator=gen)  # away from the all-zero state
        states = model(torch.rand(8, 40, 2, generator=gen)).states
    u = torch.tensor([0.6, 0.2])
    starts = sample_states(states, 64, generator=gen, noise=0.1)
    fps = find_fixed_points(model, u, starts, keep_slow=True)
    assert len(fps) >= 1
    net = copy.deepcopy(model).double().requires_grad_(False)
    for x, jacobian in zip(fps.x, fps.jacobian, strict=True):
        numeric = _central_differences(lambda x: net.velocity(x, u.double()), x)
        torch.testing.assert_close(jacobian, numeric, rtol=1e-6, atol=1e-9)


def test_roughness_of_a_straight_line_is_zero():
    t = torch.linspace(0, 1, 50, dtype=torch.float64)
    line = torch.stack([1 + 2 * t, -3 * t, 0.5 * t], dim=1)  # [T, 3] at constant speed
    assert roughness(torch.stack([line, 2 * line])) == pytest.approx(0.0, abs=1e-20)


def test_roughness_of_white_noise_is_three():
    """For independent z_t of variance s^2: Var(z_{t+1} - z_t) = 2 s^2 and Var(z_{t+2} - 2
    z_{t+1} + z_t) = (1 + 4 + 1) s^2 = 6 s^2, so the ratio of mean squares is 3."""
    gen = torch.Generator().manual_seed(0)
    noise = 0.7 * torch.randn(8, 20_000, 3, generator=gen, dtype=torch.float64)
    # each mean square averages 480000 squares: the ratio's SD is about 0.01
    assert roughness(noise) == pytest.approx(3.0, abs=0.04)


def test_roughness_of_a_circle_is_its_known_value():
    step = 0.3  # angular step per time step (rad)
    angle = step * torch.arange(100, dtype=torch.float64)
    circle = torch.stack([angle.cos(), angle.sin()], dim=1)[None]  # [1, T, 2]
    assert roughness(circle) == pytest.approx(4 * math.sin(step / 2) ** 2, rel=1e-9)


@pytest.mark.parametrize("extra", [{}, GATED_DALE], ids=["plain", "gated_dale"])
def test_at_dt_converges_at_first_order_as_dt_shrinks(extra):
    """Euler steps of dt have a global error proportional to dt: halving dt halves the
    distance to the continuous-time state, so successive refinements differ by a factor 2."""
    config = ModelConfig(n_in=2, n_out=2, n_rec=16, dt=10.0, tau=100.0, **extra)
    model = RateRNN(config, seed=2)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        model.bias.normal_(0.0, 0.5, generator=gen)
    u, x0 = torch.tensor([0.8, 0.3]), torch.randn(4, 16, generator=gen)
    finals = []
    for dt in [10.0, 5.0, 2.5, 1.25, 0.625]:  # every one lands on t = 400 ms
        net = at_dt(model, dt).double()
        n_steps = round(400.0 / dt)
        with torch.no_grad():
            inputs = u.double().expand(4, n_steps, 2)
            finals.append(net(inputs, x0.double()).states[:, -1])
    gaps = [float((a - b).norm()) for a, b in zip(finals, finals[1:], strict=False)]
    ratios = [a / b for a, b in zip(gaps, gaps[1:], strict=False)]
    assert gaps[0] > 1e-3  # the step size matters here: a real test of convergence
    assert all(1.8 < r < 2.2 for r in ratios), ratios
    assert gaps[-1] < gaps[0] / 6
