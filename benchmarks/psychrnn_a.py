"""Workload A in PsychRNN 1.0.0 (TensorFlow, graph mode): ``python -m benchmarks.psychrnn_a``.

PsychRNN's ``Basic`` model with Dale's law (``dale_ratio=0.8``) and recurrent noise 0.1 on its
own ``PerceptualDiscrimination`` task at A's sizes (N_rec = 128, batch 64, T = 2000 ms in
steps of dt = 20 ms: 100 steps), trained with its ``train()`` (Adam 1e-3, its MSE loss, no
performance cutoff). PsychRNN disables eager execution at import, so this module runs only
in its own process. The trial generator is wrapped to stamp the clock each time ``train()``
asks for a batch: the interval between two requests is one training iteration (PsychRNN's
Python trial generation plus one ``sess.run``); graph construction is timed separately.
"""

from __future__ import annotations

import math
import time
from importlib.metadata import version

from benchmarks.isolated import child_main
from benchmarks.psychrnn_task import DT, DURATION_MS, TAU
from benchmarks.timing import StepTimer, summarise
from benchmarks.workload_a import BATCH, EVAL_SEED, FLOPS, N_REC, SEED, sizes


def _timed(batches, timer: StepTimer, generation_s: list[float]):
    """Yield from ``batches``, stamping ``timer`` at each request and timing the generation."""
    while True:
        timer.on_step_end()
        start = time.perf_counter()
        batch = next(batches)
        generation_s.append(time.perf_counter() - start)
        yield batch


def _build(task):
    import tensorflow as tf
    from psychrnn.backend.models.basic import Basic

    tf.compat.v1.set_random_seed(SEED)
    params = task.get_task_params()
    params.update(name="bench", N_rec=N_REC, rec_noise=0.1, dale_ratio=0.8)
    model = Basic(params)
    model.build()
    return model


def _accuracy(model, task, n_trials: int) -> float:
    import numpy as np

    np.random.seed(EVAL_SEED)
    scores = []
    for _ in range(math.ceil(n_trials / BATCH)):
        inputs, targets, mask, _ = task.get_trial_batch()
        outputs, _ = model.test(inputs)
        scores.append(task.accuracy_function(targets, outputs, mask))
    return float(np.mean(scores))


def measure(quick: bool) -> dict:
    import numpy as np
    import tensorflow as tf
    from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination

    size = sizes(quick)
    np.random.seed(SEED)
    task = PerceptualDiscrimination(dt=DT, tau=TAU, T=DURATION_MS, N_batch=BATCH)
    start = time.perf_counter()
    model = _build(task)
    build_s = time.perf_counter() - start
    timer, generation_s = StepTimer(), []
    train_params = {
        "training_iters": size.steps * BATCH + 1,  # PsychRNN counts trials: `size.steps` updates
        "loss_epoch": size.steps + 1,  # never evaluates the loss on the side
        "learning_rate": 1e-3,
        "verbosity": False,
    }
    batches = _timed(task.batch_generator(), timer, generation_s)
    losses, train_s, init_s = model.train(batches, train_params)
    # the first request only probes the batch size; the last iteration ends without a request
    step_times = timer.step_times[1:]
    result = {
        "step": summarise(step_times, size.warmup),
        "generation_median_s": float(np.median(generation_s[size.warmup + 1 :])),
        "train_s": train_s,
        "graph_s": build_s + init_s,
        "accuracy": _accuracy(model, task, size.eval_trials),
        "threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "versions": {"psychrnn": version("psychrnn"), "tensorflow": tf.__version__},
        "sizes": {"steps": size.steps, "warmup": size.warmup, "eval_trials": size.eval_trials},
        "flops_per_step": FLOPS,
    }
    model.destruct()
    return result


if __name__ == "__main__":
    child_main({"psychrnn": measure})
