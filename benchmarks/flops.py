"""Matmul FLOPs of one training step of a leaky RNN (elementwise work is not counted).

Forward, per trial and time step: the recurrent matmul ``2 N^2``, the input projection
``2 N n_in`` and the readout ``2 N n_out``. Backward: the gradient with respect to the
activations (same size again) plus the gradient with respect to each trained weight (same
size again), so a training step costs ``3 x`` the forward matmuls when every weight trains,
and ``2 x`` for the recurrent part when the recurrence is fixed:

    FLOPs/step = 2 B T (k N^2 + 3 N (n_in + n_out)),   k = 3 (recurrence trained) or 2 (fixed)
"""

from __future__ import annotations

FORMULA = "2·B·T·(k·N² + 3·N·(n_in + n_out)), k = 3 if the recurrence trains, 2 if it is fixed"


def training_step_flops(
    *, batch: int, n_steps: int, n_rec: int, n_in: int, n_out: int, train_recurrent: bool = True
) -> float:
    """Matmul FLOPs of one forward + backward pass (see the module docstring)."""
    k = 3 if train_recurrent else 2
    per_step = k * n_rec**2 + 3 * n_rec * (n_in + n_out)
    return 2.0 * batch * n_steps * per_step
