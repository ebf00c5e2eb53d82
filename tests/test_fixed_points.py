"""The fixed-point finder against known answers: linear networks, a hand-built 2-bit flip-flop,
a contracting tanh network; and it never changes the model."""

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

from rnnbook.analysis import pca  # noqa: E402
from rnnbook.analysis.fixed_points import FixedPoints, find_fixed_points, sample_states  # noqa: E402
from rnnbook.models import ModelConfig, RateRNN  # noqa: E402
from rnnbook.plotting.fixed_points import plot_fixed_points  # noqa: E402

TAU = 100.0
DT = 20.0  # the models' time step (ms): the finder works in continuous time
X_STAR = brentq(lambda x: 2 * math.tanh(x) - x, 1.0, 3.0)  # x = 2 tanh(x): 1.9150...


class LinearDynamics(torch.nn.Module):
    """tau dx/dt = -x + W x + B u + b: the finder's whole interface, nothing else."""

    def __init__(self, n_rec=20, n_in=3, radius=0.9, tau=50.0, seed=0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        w = torch.randn(n_rec, n_rec, generator=gen)
        self.w = torch.nn.Parameter(w * radius / torch.linalg.eigvals(w).abs().max())
        self.b_in = torch.nn.Parameter(torch.randn(n_rec, n_in, generator=gen))
        self.bias = torch.nn.Parameter(torch.randn(n_rec, generator=gen))
        self.config = SimpleNamespace(tau=tau, n_rec=n_rec)

    def velocity(self, x, inputs):
        return (-x + x @ self.w.T + inputs @ self.b_in.T + self.bias) / self.config.tau

    def analytic(self, u):
        """x* = (I - W)^-1 (B u + b), in float64."""
        w, b_in, bias = (t.detach().double() for t in (self.w, self.b_in, self.bias))
        eye = torch.eye(len(w), dtype=torch.float64)
        return torch.linalg.solve(eye - w, b_in @ u.double() + bias)


def flip_flop(n_in=2):
    """Two uncoupled tanh units with self-excitation 2: 3 x 3 = 9 fixed points."""
    model = RateRNN(ModelConfig(n_in=n_in, n_out=2, n_rec=2, dt=DT, tau=TAU, activation="tanh"))
    with torch.no_grad():
        model.recurrence.weight.copy_(2 * torch.eye(2))
        model.input.weight.zero_()
    return model


def grid_starts(lim=3.0, n=9):
    axis = torch.linspace(-lim, lim, n)
    return torch.cartesian_prod(axis, axis) + 0.01  # [n * n, 2], off the axes of symmetry


@pytest.fixture(scope="module")
def flip_flop_points():
    return find_fixed_points(flip_flop(), torch.zeros(2), grid_starts())


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- known answers ---------------------------------------------------------------------------


@pytest.mark.parametrize("radius", [0.5, 0.9, 1.5])
def test_linear_fixed_point_is_the_analytic_one(radius):
    model = LinearDynamics(radius=radius)
    u = torch.tensor([0.3, -1.0, 0.5])
    starts = torch.randn(64, 20, generator=torch.Generator().manual_seed(1))
    fps = find_fixed_points(model, u, starts)
    assert len(fps) == 1 and fps.n_initial == 64
    assert (fps.x[0] - model.analytic(u)).abs().max() <= 1e-5
    jacobian = (model.w.detach().double() - torch.eye(20)) / model.config.tau
    assert torch.allclose(fps.jacobian[0], jacobian, atol=1e-12)
    expected = torch.linalg.eigvals(jacobian).real.max() < 0
    assert bool(fps.is_stable[0]) == bool(expected)
    assert fps.rates is None and fps.gains is None  # no activation in this model


def test_linear_fixed_points_per_start_input():
    model = LinearDynamics()
    inputs = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]).repeat(8, 1)  # [16, 3]
    starts = torch.randn(16, 20, generator=torch.Generator().manual_seed(2))
    fps = find_fixed_points(model, inputs, starts)
    assert len(fps) == 2
    for x, u in zip(fps.x, fps.inputs, strict=True):
        assert (x - model.analytic(u)).abs().max() <= 1e-5


def test_contracting_tanh_network_matches_newton():
    """A tanh RateRNN with spectral radius 0.5 is a contraction: one fixed point."""
    model = RateRNN(
        ModelConfig(n_in=3, n_out=1, n_rec=32, dt=DT, activation="tanh", spectral_radius=0.5)
    )
    with torch.no_grad():
        model.bias.normal_(generator=torch.Generator().manual_seed(3))
    u = torch.tensor([0.5, -0.2, 1.0])
    w, w_in, b = (
        t.detach().double() for t in (model.recurrence.weight, model.input.weight, model.bias)
    )
    x = torch.zeros(32, dtype=torch.float64)
    for _ in range(50):  # Newton on -x + W tanh(x) + W_in u + b = 0
        f = -x + w @ torch.tanh(x) + w_in @ u.double() + b
        jac = -torch.eye(32) + w * (1 - torch.tanh(x) ** 2)
        x = x - torch.linalg.solve(jac, f)
    starts = 3 * torch.randn(128, 32, generator=torch.Generator().manual_seed(4))
    fps = find_fixed_points(model, u, starts)
    assert len(fps) == 1 and bool(fps.is_stable[0])
    assert (fps.x[0] - x).abs().max() <= 1e-8
    assert torch.allclose(fps.rates[0], torch.tanh(x)) and torch.allclose(
        fps.gains[0], 1 - torch.tanh(x) ** 2
    )


def test_flip_flop_has_its_four_stable_points(flip_flop_points):
    fps = flip_flop_points
    stable = fps.stable
    assert len(stable) == 4
    corners = torch.tensor([[sx, sy] for sx in (-1, 1) for sy in (-1, 1)], dtype=torch.float64)
    for corner in corners * X_STAR:
        assert (stable.x - corner).norm(dim=1).min() <= 1e-8
    decay = (-1 + 2 * (1 - math.tanh(X_STAR) ** 2)) / TAU  # both eigenvalues, per ms
    assert torch.allclose(stable.eigvals.real, torch.full((4, 2), decay, dtype=torch.float64))


def test_flip_flop_has_all_nine_points_with_their_stability(flip_flop_points):
    fps = flip_flop_points
    assert len(fps) == 9
    assert sorted(fps.n_unstable.tolist()) == [0] * 4 + [1] * 4 + [2]
    origin = fps[fps.n_unstable == 2]
    assert origin.x.abs().max() <= 1e-8
    assert torch.allclose(origin.eigvals.real, torch.full((1, 2), 1 / TAU, dtype=torch.float64))
    saddles = fps[fps.n_unstable == 1]
    on_axis = saddles.x.abs().min(dim=1).values  # one coordinate 0, the other +-X_STAR
    assert on_axis.max() <= 1e-8
    assert torch.allclose(
        saddles.x.abs().max(dim=1).values, torch.tensor(X_STAR, dtype=torch.float64)
    )
    # the unstable direction of a saddle is along the coordinate that sits at 0
    directions = saddles.unstable_directions(1)[:, 0]  # [4, 2]
    zero_axis = saddles.x.abs().argmin(dim=1)
    assert torch.allclose(
        directions.abs().gather(1, zero_axis[:, None]), torch.ones(4, 1, dtype=torch.float64)
    )
    assert (fps.q < 1e-20).all()


def test_slow_points_are_kept_only_when_asked():
    """One unit past a saddle-node: the ghost of the lost pair is a slow point, not a fixed one."""
    model = RateRNN(ModelConfig(n_in=1, n_out=1, n_rec=1, dt=DT, tau=TAU, activation="tanh"))
    with torch.no_grad():
        model.recurrence.weight.fill_(2.0)
        model.bias.fill_(-0.6)  # max of -x + 2 tanh x on x > 0 is 0.533 < 0.6
    starts = torch.linspace(-3, 3, 25)[:, None]
    fixed = find_fixed_points(model, torch.zeros(1), starts)
    assert len(fixed) == 1 and bool(fixed.is_stable[0]) and fixed.x[0, 0] < -2
    both = find_fixed_points(model, torch.zeros(1), starts, keep_slow=True)
    assert len(both) == 2 and both.is_fixed.tolist() == [True, False]
    ghost = both[1]
    x_c = math.atanh(1 / math.sqrt(2))  # where the pull -x + 2 tanh(x) - 0.6 is largest
    assert abs(float(ghost.x[0, 0]) - x_c) < 1e-6
    assert float(ghost.q[0]) == pytest.approx(0.5 * (x_c - 2 / math.sqrt(2) + 0.6) ** 2, rel=1e-6)
    summary = both.summary()  # the ghost's one eigenvalue is 0 up to round-off: either kind
    assert summary.startswith("1 fixed point (1 stable) and 1 slow point (1 ")
    assert summary.endswith("; q up to 2.3e-03)")


# --- stability kinds: a tolerance on zero real parts ------------------------------------------


class SpectralLinear(torch.nn.Module):
    """tau dx/dt = -x + W x with W = Q diag(mu) Q^T (Q orthogonal): Jacobian eigenvalues
    exactly (mu - 1) / tau, up to round-off."""

    def __init__(self, mu, tau=50.0, seed=0):
        super().__init__()
        n = len(mu)
        q, _ = torch.linalg.qr(torch.randn(n, n, generator=torch.Generator().manual_seed(seed)))
        self.w = torch.nn.Parameter(q @ torch.diag(torch.as_tensor(mu, dtype=q.dtype)) @ q.T)
        self.q = q
        self.config = SimpleNamespace(tau=tau, n_rec=n)

    def velocity(self, x, inputs):
        return (-x + x @ self.w.T) / self.config.tau


def test_a_line_attractor_is_marginal_in_exactly_one_direction():
    model = SpectralLinear([1.0, 0.5, 0.2, -0.5, 0.8, 0.3])  # one eigenvalue of W is 1
    starts = torch.randn(32, 6, generator=torch.Generator().manual_seed(0))
    fps = find_fixed_points(model, torch.zeros(1), starts, tol_unique=1e-2)
    assert len(fps) > 1  # a line of fixed points along the first column of Q
    along = fps.x @ model.q[:, 0].double()
    assert torch.allclose(fps.x, along[:, None] * model.q[:, 0].double(), atol=1e-6)
    assert fps.n_marginal.tolist() == [1] * len(fps) and fps.n_unstable.eq(0).all()
    assert fps.kinds == ["marginal"] * len(fps) and not fps.is_stable.any()
    assert len(fps.marginal) == len(fps) and len(fps.stable) == len(fps.unstable) == 0
    assert fps.counts() == {"stable": 0, "marginal": len(fps), "saddle": 0, "source": 0}
    n = len(fps)
    assert fps.summary() == f"{n} fixed points ({n} marginal with 1 neutral direction)"
    # the round-off that used to decide the label is far below the tolerance
    assert fps.eigvals.real[:, 0].abs().max() < 1e-3 * fps.tolerance.min()


@pytest.mark.parametrize("k", [0, 1, 3, 6])
def test_a_hand_built_saddle_of_index_k_has_k_unstable_directions(k):
    mu = [1.5] * k + [0.5, 0.2, -0.3, 0.7, 0.1, 0.4][: 6 - k]  # W's eigenvalues: k above 1
    model = SpectralLinear(mu)
    starts = torch.randn(16, 6, generator=torch.Generator().manual_seed(1))
    fps = find_fixed_points(model, torch.zeros(1), starts)
    assert len(fps) == 1 and fps.x.abs().max() < 1e-8  # the origin, whatever its stability
    assert fps.n_unstable.tolist() == [k] and fps.n_marginal.tolist() == [0]
    kind = {0: "stable", 6: "source"}.get(k, "saddle")
    assert fps.kinds == [kind] and bool(fps.is_stable[0]) == (k == 0)


def test_a_slightly_unstable_point_is_a_saddle_not_marginal():
    model = SpectralLinear([1.0 + 1e-2, 0.5, 0.2])  # Re lambda = 2e-4 / ms: clearly unstable
    fps = find_fixed_points(model, torch.zeros(1), torch.ones(4, 3))
    assert fps.kinds == ["saddle"] and fps.n_unstable.tolist() == [1]


def test_stability_is_what_a_simulation_from_a_small_perturbation_shows(flip_flop_points):
    model = flip_flop().without_noise()
    gen = torch.Generator().manual_seed(5)
    starts = flip_flop_points.x.float()  # [9, 2]
    kicks = 1e-3 * torch.nn.functional.normalize(torch.randn(9, 8, 2, generator=gen), dim=2)
    h0 = (starts[:, None] + kicks).reshape(-1, 2)  # 8 random kicks of size 1e-3 per point
    with torch.no_grad():  # 4 s of the noise-free network at zero input (tau = 100 ms)
        states = model(torch.zeros(len(h0), 200, 2), h0).states[:, -1]
    distance = (states - starts.repeat_interleave(8, 0)).norm(dim=1).view(9, 8)
    for stable, d in zip(flip_flop_points.is_stable.tolist(), distance, strict=True):
        if stable:
            assert (d < 1e-4).all()  # decayed (both eigenvalues here are -0.0083 / ms)
        else:
            assert (d > 0.1).all()  # grew from 1e-3 (unstable eigenvalues: +0.01 / ms)


# --- the model is never changed ----------------------------------------------------------------


def snapshot(model):
    return {
        "values": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "requires_grad": {k: p.requires_grad for k, p in model.named_parameters()},
        "grads": {
            k: None if p.grad is None else p.grad.clone() for k, p in model.named_parameters()
        },
        "training": [m.training for m in model.modules()],
        "dtypes": {k: v.dtype for k, v in model.state_dict().items()},
        "noise": model.noise_generator.get_state().clone(),
    }


def assert_same(before, after):
    assert before["values"].keys() == after["values"].keys()
    for k, v in before["values"].items():
        assert torch.equal(v, after["values"][k]), k
    assert before["requires_grad"] == after["requires_grad"]
    for k, g in before["grads"].items():
        h = after["grads"][k]
        assert (g is None and h is None) or torch.equal(g, h), k
    assert before["training"] == after["training"]
    assert before["dtypes"] == after["dtypes"]
    assert torch.equal(before["noise"], after["noise"])


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(recurrence="dale", gate="multiplicative"),
        dict(recurrence="dale", train_recurrent=False),
        dict(activation="tanh", bias=False),
    ],
)
@pytest.mark.parametrize("training", [True, False])
def test_search_never_changes_the_model(kwargs, training):
    model = RateRNN(ModelConfig(n_in=2, n_out=2, n_rec=16, dt=DT, **kwargs), seed=1)
    model.train(training)
    trained = next(model.parameters())
    trained.grad = torch.ones_like(trained)  # a gradient left by training
    with torch.no_grad():
        states = model(torch.randn(4, 30, 2, generator=torch.Generator().manual_seed(0))).states
    starts = sample_states(states, 32, generator=torch.Generator().manual_seed(0))
    before = snapshot(model)
    fps = find_fixed_points(model, torch.tensor([0.5, 0.0]), starts)
    assert_same(before, snapshot(model))
    assert len(fps) >= 1 and (fps.q < 1e-10).all()
    with torch.no_grad():  # the points really are fixed points of the (float32) model
        speed = model.velocity(fps.x.float(), fps.inputs.float()) * model.config.tau
    assert speed.abs().max() < 1e-4


# --- the result object, de-duplication, outliers, sampling ------------------------------------


def test_summary_and_indexing(flip_flop_points):
    fps = flip_flop_points
    assert (
        fps.summary() == "9 fixed points (4 stable, 4 saddles with 1 unstable direction, 1 source)"
    )
    one = fps[0]
    assert isinstance(one, FixedPoints) and len(one) == 1 and one.x.shape == (1, 2)
    assert one.jacobian.shape == (1, 2, 2) and one.eigvals.shape == (1, 2) and one.n_initial == 81
    picked = fps[torch.tensor([0, 2])]
    assert torch.equal(picked.x, fps.x[[0, 2]]) and torch.equal(picked.inputs, fps.inputs[[0, 2]])
    assert len(fps[fps.is_stable]) == len(fps.stable) == 4 and len(fps.unstable) == 5
    assert fps.stable.is_stable.all() and not fps.unstable.is_stable.any()
    assert (fps.q[1:] >= fps.q[:-1]).all()  # sorted by q
    assert fps[fps.is_stable & ~fps.is_stable].summary() == "0 fixed points"
    assert fps.eigvals.is_complex() and (fps.eigvals.real[:, 1:] <= fps.eigvals.real[:, :-1]).all()


def test_search_works_under_no_grad():
    with torch.no_grad():
        fps = find_fixed_points(flip_flop(), torch.zeros(2), torch.tensor([[1.0, -1.5]]))
    assert torch.allclose(fps.x, torch.tensor([[X_STAR, -X_STAR]], dtype=torch.float64))


def test_duplicate_starts_give_one_point():
    starts = torch.tensor([[1.0, 1.5], [1.0, 1.5]])
    fps = find_fixed_points(flip_flop(), torch.zeros(2), starts)
    assert len(fps) == 1 and fps.n_initial == 2
    assert torch.allclose(fps.x, torch.full((1, 2), X_STAR, dtype=torch.float64))


def test_distant_points_are_outliers():
    model = LinearDynamics(radius=0.5)
    u = torch.zeros(3)
    with torch.no_grad():
        model.bias.mul_(100.0)  # x* far from the starts
    starts = 0.1 * torch.randn(32, 20, generator=torch.Generator().manual_seed(5))
    assert model.analytic(u).norm() > 50
    assert len(find_fixed_points(model, u, starts)) == 0
    assert len(find_fixed_points(model, u, starts, outlier_distance=None)) == 1


def test_bad_shapes_are_refused():
    model = flip_flop()
    with pytest.raises(ValueError, match="initial_states"):
        find_fixed_points(model, torch.zeros(2), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="inputs"):
        find_fixed_points(model, torch.zeros(4, 2), torch.zeros(5, 2))


def test_sample_states_draws_rows_of_the_trajectories():
    states = torch.arange(2 * 5 * 3, dtype=torch.float32).view(2, 5, 3)  # [B, T, N]
    mask = torch.zeros(2, 5, dtype=torch.bool)
    mask[1, 2:] = True
    drawn = sample_states(states, 40, generator=torch.Generator().manual_seed(0), mask=mask)
    assert drawn.shape == (40, 3)
    allowed = states[1, 2:]
    assert all((row == allowed).all(dim=1).any() for row in drawn)
    again = sample_states(states, 40, generator=torch.Generator().manual_seed(0), mask=mask)
    assert torch.equal(drawn, again)
    noisy = sample_states(states, 2000, generator=torch.Generator().manual_seed(0), noise=0.5)
    clean = sample_states(states, 2000, generator=torch.Generator().manual_seed(0))
    assert (noisy - clean).std().item() == pytest.approx(0.5, rel=0.1)


# --- the figure ----------------------------------------------------------------------------------


def test_plot_draws_points_and_unstable_directions(flip_flop_points):
    fps = flip_flop_points
    fitted = pca(grid_starts(), 2)
    fig, ax = plt.subplots()
    trajectories = torch.randn(3, 10, 2, generator=torch.Generator().manual_seed(0))
    out = plot_fixed_points(fps, fitted, use="states", trajectories=trajectories, ax=ax)
    assert out is ax
    assert len(ax.lines) == 3 + 4 + 1  # trajectories, one segment per saddle and the source
    both = plot_fixed_points(fps, fitted, use="states", n_directions=2, ax=plt.subplots()[1])
    assert len(both.lines) == 4 + 2
    filled, open_ = ax.collections
    assert len(filled.get_offsets()) == 4 and len(open_.get_offsets()) == 5
    assert ax.get_xlabel().startswith("PC1")
    rates = plot_fixed_points(fps, pca(torch.tanh(grid_starts()), 2), ax=plt.subplots()[1])
    assert len(rates.collections[0].get_offsets()) == 4  # in rate space by default
