"""Train PsychRNN's ``Basic`` model with rnnbook's configs, and read the result as rnnbook data.

PsychRNN 1.0.0 (Ehrlich et al., 2021) builds a TensorFlow graph (``tf.compat.v1``, eager
execution disabled at import: keep it to its own process or notebook). ``train_psychrnn``
translates a :class:`~rnnbook.models.ModelConfig` and a :class:`~rnnbook.training.TrainConfig`
into PsychRNN's parameter dicts, so one pair of configs trains both libraries::

    task = PsychRNNPerceptual(PsychRNNPerceptualConfig(dt=10.0))
    run = train_psychrnn(task, model_config, train_config, seed=0, test_trials=trials)
    run.train_s, run.accuracy, run.evaluation  # an rnnbook Evaluation on ``trials``

The model trains on PsychRNN's own ``PerceptualDiscrimination`` trial generator (its Python
loop included in the wall time); ``test_trials`` (e.g. from the rnnbook task, which makes the
same trials) are run through the trained graph for the analyses. TensorFlow and PsychRNN are
imported inside the functions, never by ``import rnnbook``. PsychRNN draws its initial
weights and trials from numpy's global generator: it is seeded for the call and restored after.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np
import torch

from rnnbook.analysis import Evaluation, evaluation_of
from rnnbook.models import ModelConfig, Rollout
from rnnbook.tasks import Trials
from rnnbook.tasks.psychrnn_perceptual import PsychRNNPerceptual
from rnnbook.training import TrainConfig

INSTALL_HINT = (
    "run `make setup`, or `pip install 'pip<24.1'` and then `pip install -e '.[psychrnn]'` "
    "(newer pip silently installs PsychRNN 0.3)"
)


@dataclass
class PsychRNNRun:
    """A trained PsychRNN ``Basic`` network and what it did.

    model_config, train_config: the rnnbook configs it was trained with.
    weights:      PsychRNN's ``get_weights()`` less the optimiser's slots (numpy): the effective
                  ``W_in [n_rec, 2]``, ``W_rec [n_rec, n_rec]``, ``W_out [2, n_rec]`` (after its
                  masks), ``b_rec``, ``b_out``, ``init_state [1, n_rec]``, Dale and connectivity
                  masks.
    losses:       [n] PsychRNN's loss every ``train_config.eval_every`` steps.
    train_s:      wall time of PsychRNN's training loop (trial generation and updates).
    generation_s: the part of ``train_s`` spent in PsychRNN's trial generator.
    graph_s:      building the graph and its gradients, and initialising the variables.
    evaluation:   the trained network on ``test_trials`` (None without them); its rollout's
                  states are PsychRNN's [B, T, n_rec], rates = relu(states).
    accuracy:     PsychRNN's ``accuracy_function`` on ``test_trials`` (nan without them).
    threads:      TensorFlow's (intra-op, inter-op) threads.
    """

    model_config: ModelConfig
    train_config: TrainConfig
    weights: dict[str, np.ndarray]
    losses: list[float]
    train_s: float
    generation_s: float
    graph_s: float
    evaluation: Evaluation | None
    accuracy: float
    threads: tuple[int, int]

    @property
    def wall_s(self) -> float:
        """Wall time from an untrained model to a trained one: ``graph_s + train_s``."""
        return self.graph_s + self.train_s

    @property
    def step_s(self) -> float:
        """Mean wall time of one training step (seconds)."""
        return self.train_s / self.train_config.n_steps


def psychrnn_params(
    task: PsychRNNPerceptual, model_config: ModelConfig, train_config: TrainConfig
) -> tuple[dict, dict]:
    """PsychRNN's network params and train params for rnnbook configs.

    Maps ``n_rec``, ``tau``, ``sigma_rec`` (PsychRNN's ``rec_noise``: the same
    ``sqrt(2 alpha) sigma`` per step), ``spectral_radius`` (of the initial recurrent weights),
    ``train_recurrent`` and ``bias``; ``n_steps``, ``batch_size``, ``lr``, ``eval_every`` (loss
    records) and ``grad_clip`` (1.0: PsychRNN clips each gradient to norm 1; None: none).
    ``activation`` becomes ``tf.nn.<activation>`` in :func:`train_psychrnn`. Raises ValueError
    naming any setting PsychRNN's ``Basic`` model cannot reproduce (among them Dale's law:
    PsychRNN's Dale readout weighs each unit by its sign, which no rnnbook readout does).
    """
    _check_supported(task, model_config, train_config)
    _check_psychrnn_levels(task)
    m, t = model_config, train_config
    network = {
        "name": "basic",
        "N_in": task.n_in,
        "N_out": task.n_out,
        "N_rec": m.n_rec,
        "N_steps": task.config.n_steps,
        "N_batch": t.batch_size,
        "dt": task.dt,
        "tau": m.tau,
        "rec_noise": m.sigma_rec,
        "spec_rad": m.spectral_radius,
        "W_rec_train": m.train_recurrent,
        "b_rec_train": m.bias,
        "b_out_train": m.bias,
        "loss_function": "mean_squared_error",
    }
    train = {
        "training_iters": t.n_steps * t.batch_size + 1,  # PsychRNN counts trials: n_steps updates
        "learning_rate": t.lr,
        "loss_epoch": t.eval_every,
        "clip_grads": t.grad_clip is not None,
        "verbosity": False,
    }
    return network, train


def _check_supported(task, m: ModelConfig, t: TrainConfig) -> None:
    problems = []
    m = m.for_task(task)  # dt, n_in and n_out from the task (or an error naming both values)
    unsupported = {
        "ModelConfig.recurrence": (m.recurrence, "dense"),
        "ModelConfig.time_constants": (m.time_constants, "scalar"),
        "ModelConfig.input_weights": (m.input_weights, "free"),
        "ModelConfig.readout_weights": (m.readout_weights, "free"),
        "ModelConfig.gate": (m.gate, "none"),
        "ModelConfig.sigma_in": (m.sigma_in, 0.0),
        "ModelConfig.noise": (m.noise, "gaussian"),
        "TrainConfig.loss": (t.loss, "mse"),
        "TrainConfig.weight_decay": (t.weight_decay, 0.0),
        "TrainConfig.curriculum": (t.curriculum, None),
        "TrainConfig.target_accuracy": (t.target_accuracy, None),
        "TrainConfig.optimizer": (t.optimizer, "adam"),
        "TrainConfig.penalties": (t.penalties, ()),
        "TrainConfig.lr_plateau_factor": (t.lr_plateau_factor, None),
        "TrainConfig.lr_schedule": (t.lr_schedule, "constant"),
        "TrainConfig.restore_best": (t.restore_best, False),
        "TrainConfig.early_stop_patience": (t.early_stop_patience, None),
        "TrainConfig.noise_stages": (t.noise_stages, None),
    }
    for name, (value, allowed) in unsupported.items():
        if value != allowed:
            problems.append(f"{name} = {value!r}: PsychRNN's Basic model needs {allowed!r}")
    if t.grad_clip not in (None, 1.0):
        problems.append(f"TrainConfig.grad_clip = {t.grad_clip!r}: PsychRNN clips at 1.0 or not")
    if problems:
        raise ValueError("PsychRNN cannot train this: " + "; ".join(problems))


def train_psychrnn(
    task: PsychRNNPerceptual,
    model_config: ModelConfig,
    train_config: TrainConfig,
    *,
    seed: int = 0,
    test_trials: Trials | None = None,
    threads: int | None = None,
) -> PsychRNNRun:
    """Build and train PsychRNN's ``Basic`` model on PsychRNN's ``PerceptualDiscrimination``.

    ``task`` sets dt and the trial length (its coherences must be PsychRNN's, which its
    generator hard-codes); ``seed`` seeds numpy's global generator (initial weights, training
    trials; restored afterwards) and TensorFlow's graph seed (recurrent noise): the same seed
    gives the same numbers on the same machine. ``threads``: TensorFlow's intra-op threads
    (default: torch's thread count); inter-op runs on one. ``test_trials`` ([B, T, 2] trials
    of ``task``) are run through the trained network for ``evaluation`` and ``accuracy``.
    """
    tf, basic, discrimination = _import_psychrnn()
    model_config = model_config.for_task(task)
    network, train_params = psychrnn_params(task, model_config, train_config)
    network["transfer_function"] = getattr(tf.nn, model_config.activation)
    threads = threads or torch.get_num_threads()
    graph = tf.Graph()
    with graph.as_default(), _global_numpy_seed(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tf.compat.v1.set_random_seed(seed)
        trial_ms, batch_size = task.config.trial_ms, train_config.batch_size
        source = discrimination(task.dt, model_config.tau, trial_ms, batch_size)
        start = time.perf_counter()
        model = basic(network)
        with _silenced_stderr():  # creating a session logs the failed search for a GPU
            model.build()
            model.sess.close()
            model.sess = tf.compat.v1.Session(graph=graph, config=_session_config(tf, threads))
        build_s = time.perf_counter() - start
        generation = []
        batches = _timed(source.batch_generator(), generation)
        try:
            losses, train_s, init_s = model.train(batches, train_params)
            weights = _weights(tf, model)
            evaluation = None if test_trials is None else _evaluate(model, task, test_trials)
        finally:
            model.sess.close()
    accuracy = math.nan
    if evaluation is not None:  # PsychRNN's own accuracy_function
        outputs, mask = evaluation.rollout.outputs.numpy(), test_trials.mask.numpy()
        accuracy = float(source.accuracy_function(test_trials.targets.numpy(), outputs, mask))
    return PsychRNNRun(
        model_config=model_config,
        train_config=train_config,
        weights=weights,
        losses=[float(x) for x in losses],
        train_s=float(train_s),
        generation_s=float(sum(generation)),
        graph_s=float(build_s + init_s),
        evaluation=evaluation,
        accuracy=accuracy,
        threads=(threads, 1),
    )


def _weights(tf, model) -> dict[str, np.ndarray]:
    """``model.get_weights()`` without the optimiser's slots, fetched in one ``sess.run``
    (PsychRNN's own evaluates each variable in a run of its own: seconds per network)."""
    scope = model.name + "/"
    variables = {
        v.name[len(scope) : -2]: v
        for v in tf.compat.v1.global_variables(scope=model.name)
        if v.name.startswith(scope) and v.name.endswith(":0") and "/Adam" not in v.name
    }
    variables["W_rec"] = model.get_effective_W_rec()
    variables["W_in"] = model.get_effective_W_in()
    variables["W_out"] = model.get_effective_W_out()
    return model.sess.run(variables)


def _session_config(tf, threads: int):
    """``threads`` intra-op threads, one inter-op thread (the unrolled steps are sequential)."""
    return tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1
    )


def _evaluate(model, task: PsychRNNPerceptual, trials: Trials) -> Evaluation:
    """Run the trained graph on ``trials`` in chunks of its batch size (its initial state is
    tiled to that size), padding the last chunk."""
    inputs = trials.inputs.numpy()  # [B, T, 2]
    size = model.N_batch
    outputs, states = [], []
    for start in range(0, len(inputs), size):
        chunk = inputs[start : start + size]
        padded = np.concatenate([chunk, np.zeros((size - len(chunk), *chunk.shape[1:]))])
        out, state = model.test(padded)  # [size, T, 2], [size, T, n_rec]
        outputs.append(out[: len(chunk)])
        states.append(state[: len(chunk)])
    states = torch.as_tensor(np.concatenate(states))
    rollout = Rollout(torch.as_tensor(np.concatenate(outputs)), states, torch.relu(states))
    return evaluation_of(task, trials, rollout)


def _check_psychrnn_levels(task: PsychRNNPerceptual) -> None:
    default = type(task.config)().coherences
    if task.config.coherences != default:
        raise ValueError(
            f"PsychRNNPerceptualConfig.coherences = {task.config.coherences!r}: PsychRNN trains "
            f"on its own levels {default!r} (test other levels with test_trials)"
        )


def _timed(batches, seconds: list[float]):
    """Yield from ``batches``, appending the time each one took to ``seconds``."""
    while True:
        start = time.perf_counter()
        batch = next(batches)
        seconds.append(time.perf_counter() - start)
        yield batch


@contextlib.contextmanager
def _global_numpy_seed(seed: int):
    """Seed numpy's global generator (PsychRNN's only source of randomness) for the body."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _import_psychrnn():
    """TensorFlow, PsychRNN's ``Basic`` and ``PerceptualDiscrimination``, imported quietly."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with _silenced_stderr():  # TF's C++ start-up notices bypass TF_CPP_MIN_LOG_LEVEL
            import tensorflow as tf
            from psychrnn.backend.models.basic import Basic
            from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination
    except ImportError as error:
        raise ImportError(f"PsychRNN 1.0.0 and TensorFlow are needed: {INSTALL_HINT}") from error
    if version("psychrnn") != "1.0.0":
        installed = version("psychrnn")
        raise ImportError(f"PsychRNN {installed} is installed, not 1.0.0: {INSTALL_HINT}")
    tf.get_logger().setLevel("ERROR")
    return tf, Basic, PerceptualDiscrimination


@contextlib.contextmanager
def _silenced_stderr():
    """Send file descriptor 2 to /dev/null for the body (C++ writes bypass ``sys.stderr``)."""
    with open(os.devnull, "w") as devnull:
        saved = os.dup(2)
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
