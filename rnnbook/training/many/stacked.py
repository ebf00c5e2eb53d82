"""K rate RNNs of one shape trained as one stacked model in this process.

The members' parameters are stacked on a leading axis (``torch.func.stack_module_state``);
their effective weights come from the model's own ``effective_weights()`` under ``vmap``
(Dale signs, masks, low-rank factors and fixed weights included); one batched forward pass
runs all K networks through the same scan as a single network. Everything that makes a run the
run ``train()`` would give stays per member, in the same code ``train()`` runs
(``training.step``): its trials, from its own generators; its noise, drawn by its own model's
``noisy_inputs`` / ``recurrent_noise`` in the same order and shapes; its loss and penalties; its
clipping; its optimiser state (own lr and weight decay); its evaluations. So each member
follows the trajectory of training it alone, up to the rounding of batched matmuls. A member
that diverges (``training.step.check_divergence``: a non-finite loss or gradient, a loss above
its ``divergence_factor`` times its first) stops, as ``train()`` would, keeping its parameters,
while the others go on; it is reported, the others are stored.

Which runs may stack, and what may differ between members: ``stackable.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from tqdm import tqdm

from rnnbook.models import Rollout, Weights
from rnnbook.models.scan import leaky_scan
from rnnbook.runs import Run, RunSpec, build_model, store_run
from rnnbook.runtime import threads_for, torch_threads, tune_for_training
from rnnbook.tasks import TASKS
from rnnbook.training import step as steps
from rnnbook.training.many.failures import failure_line
from rnnbook.training.many.stackable import check_stackable
from rnnbook.training.optimizers import OPTIMIZERS
from rnnbook.training.trainer import check_fits


class _EffectiveWeights(nn.Module):
    """A model's effective weights as a forward pass, so ``vmap`` computes them for K members."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self) -> tuple[torch.Tensor, ...]:
        w = self.model.effective_weights()
        return w.input, w.recurrent, w.readout, w.bias, w.readout_bias


class StackedNetwork:
    """K models of one architecture as one network of the training step (``training.step``)."""

    def __init__(self, models: list[nn.Module]):
        self.models = models
        stacked, self.buffers = stack_module_state(models)
        self.names = [name for name, p in stacked.items() if p.requires_grad]
        self.params = [stacked[name] for name in self.names]
        self._all = stacked
        template = _EffectiveWeights(models[0])
        self._weights = vmap(lambda p, b: functional_call(template, (_prefix(p), _prefix(b)), ()))
        self.alpha = _stacked_alpha(models)
        self.activation = models[0].activation

    @staticmethod
    def members(tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    def weights(self) -> list[Weights]:
        """Each member's effective weights: its slices of the stacked ones (differentiable)."""
        w_in, w_rec, w_out, bias, readout_bias = self._weights(self._all, self.buffers)
        return [
            Weights(
                recurrent=w_rec[k],
                input=w_in[k],
                readout=w_out[k],
                bias=bias[k],
                readout_bias=readout_bias[k],
            )
            for k in range(len(self.models))
        ]

    def forward(self, trials, generators) -> list[Rollout]:
        """One rollout per member on its own (unpadded) steps."""
        inputs, noise = self._inputs_and_noise(trials, generators)
        w_in, w_rec, w_out, bias, readout_bias = self._weights(self._all, self.buffers)
        k, b, t, n_in = inputs.shape
        n = w_rec.shape[-1]
        # member-major: each member's block contiguous, the scan reads it as a time-major view
        u = inputs.transpose(1, 2).reshape(k, t * b, n_in)
        drive = torch.baddbmm(bias[:, None], u, w_in.transpose(1, 2))
        if noise is not None:
            drive = drive + noise.view(k, t * b, n)
        drive = drive.view(k, t, b, n).transpose(0, 1)  # [T, K, B, N], a view
        x0 = self.buffers.get("initial_state")  # [K, N]: ModelConfig.h0_std > 0
        x0 = inputs.new_zeros(k, b, n) if x0 is None else x0[:, None].expand(k, b, n).clone()
        states, rates = leaky_scan(drive, x0, w_rec.transpose(1, 2), self.alpha, self.activation)
        per_member = rates.transpose(0, 1).reshape(k, t * b, n)  # a view: the scan kept the layout
        outputs = torch.baddbmm(readout_bias[:, None], per_member, w_out.transpose(1, 2))
        outputs = outputs.view(k, t, b, -1).transpose(1, 2)  # [K, B, T, n_out]
        return [
            Rollout(
                outputs=outputs[i, :, : tr.n_steps],
                states=states[: tr.n_steps, i].transpose(0, 1),
                rates=rates[: tr.n_steps, i].transpose(0, 1),
            )
            for i, tr in enumerate(trials)
        ]

    def _inputs_and_noise(self, trials, generators):
        """Stacked noisy inputs [K, B, T, n_in] and the scaled recurrent noise [K, T, B, N]
        (None if no member has any), zero-padded to the longest member's T; each member draws
        exactly what its model draws in a forward pass alone, in the same order."""
        n_steps = max(tr.n_steps for tr in trials)
        batch, n_rec = trials[0].batch_size, self.models[0].config.n_rec
        noisy = any(m.config.sigma_rec > 0 for m in self.models)
        noise = None
        if noisy:
            noise = trials[0].inputs.new_empty(len(trials), n_steps, batch, n_rec)
        inputs = []
        for k, (model, tr, gen) in enumerate(zip(self.models, trials, generators, strict=True)):
            inputs.append(_pad(model.noisy_inputs(tr.inputs, gen), n_steps))
            if noisy:
                out = noise[k, : tr.n_steps]
                if model.recurrent_noise((tr.n_steps * batch, n_rec), gen, out=out) is None:
                    out.zero_()  # this member has no recurrent noise
                noise[k, tr.n_steps :].zero_()  # padding
        return torch.stack(inputs), noise

    def state_dict(self, k: int) -> dict[str, torch.Tensor]:
        """Member ``k``'s parameters and buffers, as its own model's state dict (on CPU)."""
        tensors = {**self._all, **self.buffers}
        return {name: t[k].detach().cpu().clone() for name, t in tensors.items()}


def _stacked_alpha(models) -> float | torch.Tensor:
    """One number if every member has the same scalar alpha, else [K, 1, 1] or [K, 1, N]."""
    alphas = [m.alpha for m in models]
    if all(not isinstance(a, torch.Tensor) and a == alphas[0] for a in alphas):
        return alphas[0]
    n_rec = models[0].config.n_rec
    per_unit = [torch.as_tensor(a, dtype=torch.float32).expand(n_rec) for a in alphas]
    stacked = torch.stack(per_unit)[:, None]  # [K, 1, N]
    device = next(models[0].parameters()).device
    same = all(not isinstance(a, torch.Tensor) for a in alphas)
    return (stacked[..., :1] if same else stacked).to(device)


def _prefix(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"model.{name}": t for name, t in tensors.items()}


def _pad(x: torch.Tensor, n_steps: int) -> torch.Tensor:
    """``x [B, T, ...]`` zero-padded at the end of time to ``n_steps``."""
    missing = n_steps - x.shape[1]
    if missing == 0:
        return x
    return torch.cat([x, x.new_zeros(x.shape[0], missing, *x.shape[2:])], dim=1)


def _train(network: StackedNetwork, members: list[steps.Member], specs, device, progress) -> None:
    cfg = members[0].config  # its shared fields: n_steps, batch sizes, loss, evaluation
    optimizer = OPTIMIZERS[cfg.optimizer](
        network.params, network.names, [m.config for m in members]
    )
    steps.evaluate_members(network, members, device, 0)
    for step in tqdm(range(1, cfg.n_steps + 1), disable=not progress, mininterval=2.0):
        result = steps.training_step(network, members, device)
        losses, norms = result.losses.tolist(), result.grad_norms.tolist()
        for m, spec, loss, norm in zip(members, specs, losses, norms, strict=True):
            if m.active:
                try:  # before the update: a member that diverges keeps its parameters
                    steps.check_divergence(m, loss, norm, step)
                except steps.DivergenceError as error:
                    m.failure = failure_line(spec, error)
        active = [m.active for m in members]
        if not any(active):
            return
        optimizer.step([p.grad for p in network.params], active)
        param_norms, accuracies = result.param_norms.tolist(), result.accuracies.tolist()
        for k, m in enumerate(members):
            if m.active:
                steps.record_step(
                    m.history,
                    step,
                    losses[k],
                    norms[k],
                    network.names,
                    param_norms[k],
                    accuracies[k] if m.config.record_accuracy else None,
                )
        if steps.is_eval_step(step, cfg):
            steps.evaluate_members(network, members, device, step)


def default_device() -> torch.device:
    """CUDA when there is one (where stacking pays most), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def fit_stacked(
    specs: list[RunSpec], *, cache_dir: Path, progress: bool = True, device=None
) -> tuple[dict[str, Run], list[str]]:
    """Train ``specs`` as one stack; store each member that finished as an ordinary run.

    Returns (key -> Run of each stored member, one line per member that failed).
    """
    check_stackable(specs)
    tune_for_training()
    device = default_device() if device is None else torch.device(device)
    models = [build_model(spec).to(device) for spec in specs]
    tasks = [TASKS[s.task](s.task_config) for s in specs]
    for model, task, spec in zip(models, tasks, specs, strict=True):
        check_fits(model, task, spec.train_config)  # as train() refuses them, naming the field
    members = [
        steps.Member.create(task, s.train_config, s.seed, device)
        for task, s in zip(tasks, specs, strict=True)
    ]
    network = StackedNetwork(models)
    with torch_threads(threads_for(specs[0].model_config.n_rec)):
        start = time.perf_counter()
        _train(network, members, specs, device, progress)
        wall_time = (time.perf_counter() - start) / len(specs)
        for member in members:
            member.history.wall_s = wall_time
        runs = {}
        for k, (member, model, spec) in enumerate(zip(members, models, specs, strict=True)):
            if member.active:
                model.cpu().load_state_dict(network.state_dict(k))
                runs[spec.key()] = store_run(
                    cache_dir,
                    spec,
                    model,
                    member.history,
                    wall_time=wall_time,
                    trained_by="fit_many, stacked",
                )
    return runs, [m.failure for m in members if m.failure is not None]
