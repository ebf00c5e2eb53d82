"""K rate RNNs of one shape trained as one stacked model in this process.

The members' parameters are stacked on a leading axis (``torch.func.stack_module_state``);
their effective weights come from the model's own modules under ``vmap``; one batched forward
pass runs all K networks (``batched.forward``). What stays per member is everything that makes
a run the run ``train()`` would give: its trials, sampled from its own task generator; its
noise, drawn from its own noise generator in the same order and shapes; its loss, computed by
the same loss function on its own outputs; its gradient clipping; its Adam (own lr and weight
decay); its evaluations. So each member follows the trajectory of training it alone, up to the
rounding of batched matmuls. A member that diverges stops (as ``train()`` would) while the
others go on; it is reported, the others are stored.

Which runs may stack, and what may differ between members: ``stackable.py``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.func import functional_call, stack_module_state, vmap
from tqdm import tqdm

from rnnbook.ensembles import batched
from rnnbook.ensembles.failures import failure_line
from rnnbook.ensembles.stackable import check_stackable
from rnnbook.runs import Run, RunSpec, _metadata, _store, build_model
from rnnbook.runtime import threads_for, torch_threads, tune_for_training
from rnnbook.seeding import Seeds
from rnnbook.tasks import TASKS, Task
from rnnbook.training import LOSSES, DivergenceError, History
from rnnbook.training.trainer import _check_finite


@dataclass
class _Member:
    """One network of the stack: its spec, task, generators, history and failure."""

    spec: RunSpec
    task: Task
    gens: dict[str, tuple[torch.Generator, torch.Generator]]  # train / eval: (trials, noise)
    history: History = field(default_factory=History)
    failure: str | None = None

    @classmethod
    def create(cls, spec: RunSpec, device: torch.device) -> _Member:
        seeds = Seeds.from_seed(spec.seed)
        eval_gen = seeds.generator("eval")
        # train() evaluates on CPU with noise from the eval generator, elsewhere with the model's
        # own noise generator (RateRNN._noise_generator: a device generator seeded from it)
        eval_noise_gen = eval_gen
        if device.type != "cpu":
            seed = int(torch.randint(2**62, (1,), generator=seeds.generator("noise")))
            eval_noise_gen = torch.Generator(device=device).manual_seed(seed)
        gens = {
            "train": (seeds.generator("task"), seeds.generator("noise", device)),
            "eval": (eval_gen, eval_noise_gen),
        }
        return cls(spec, TASKS[spec.task](spec.task_config), gens)

    def noisy_inputs(self, inputs: torch.Tensor, gen: torch.Generator, noise_out: torch.Tensor):
        """``inputs [B, T, n_in]`` with input noise; the unit normals of the recurrent noise go
        into ``noise_out [T, B, N]`` (contiguous). Both drawn as ``RateRNN.forward`` draws them.
        Returns the noisy inputs and the recurrent noise's scale (0 without it)."""
        cfg = self.spec.model_config
        if cfg.sigma_in > 0:
            scale = math.sqrt(2.0 / cfg.alpha) * cfg.sigma_in
            inputs = inputs + scale * torch.randn(inputs.shape, generator=gen, device=inputs.device)
        if cfg.sigma_rec == 0:
            noise_out.zero_()
            return inputs, 0.0
        torch.randn(noise_out.shape, generator=gen, device=inputs.device, out=noise_out)
        return inputs, math.sqrt(2.0 / cfg.alpha) * cfg.sigma_rec


def _batch(members: list[_Member], batch_size: int, device, *, evaluation: bool):
    """Each member's trials; the stacked inputs [K, B, T, n_in]; the recurrent noise as unit
    normals [K, T, B, N] with each member's scale [K] (both None if no member has noise), all
    zero-padded to the longest member's T. Each member's noise is one contiguous draw, so the
    stack draws no more and no fewer normals than its members would alone."""
    trials = [
        m.task.sample(batch_size, generator=m.gens["eval" if evaluation else "train"][0]).to(device)
        for m in members
    ]
    n_steps = max(tr.n_steps for tr in trials)
    noisy = any(m.spec.model_config.sigma_rec > 0 for m in members)
    n_rec = members[0].spec.model_config.n_rec
    noise = torch.empty(len(members), n_steps, batch_size, n_rec, device=device) if noisy else None
    inputs, scales = [], []
    for k, (m, tr) in enumerate(zip(members, trials, strict=True)):
        out = noise[k, : tr.n_steps] if noisy else torch.empty(0, device=device)
        if noisy and tr.n_steps < n_steps:
            noise[k, tr.n_steps :].zero_()
        x, scale = m.noisy_inputs(tr.inputs, m.gens["eval" if evaluation else "train"][1], out)
        inputs.append(_pad(x, n_steps, dim=1))
        scales.append(scale)
    inputs = torch.stack(inputs)
    if not noisy:
        return trials, inputs, None, None
    return trials, inputs, noise, torch.tensor(scales, device=device)


def _pad(x: torch.Tensor, n_steps: int, *, dim: int) -> torch.Tensor:
    """``x`` zero-padded at the end of ``dim`` to length ``n_steps``."""
    missing = n_steps - x.shape[dim]
    if missing == 0:
        return x
    shape = list(x.shape)
    shape[dim] = missing
    return torch.cat([x, x.new_zeros(shape)], dim=dim)


class _Stack:
    """The stacked parameters of K models and the batched forward pass over them."""

    def __init__(self, models: list[torch.nn.Module], members: list[_Member], device):
        self.params, self.buffers = stack_module_state([m.to(device) for m in models])
        template = batched.EffectiveWeights(models[0])
        self._weights = vmap(lambda p, b: functional_call(template, (_prefix(p), _prefix(b)), ()))
        cfgs = [m.spec.model_config for m in members]
        self.alpha = torch.tensor([c.alpha for c in cfgs], device=device).view(-1, 1, 1)
        self.activation = cfgs[0].activation

    def forward(self, inputs: torch.Tensor, noise, noise_scale) -> torch.Tensor:
        weights = self._weights(self.params, self.buffers)
        return batched.forward(weights, inputs, noise, noise_scale, self.alpha, self.activation)

    def state_dict(self, k: int) -> dict[str, torch.Tensor]:
        """Member ``k``'s parameters and buffers, as its own model's state dict (on CPU)."""
        return {n: t[k].detach().cpu().clone() for n, t in {**self.params, **self.buffers}.items()}


def _prefix(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"model.{name}": t for name, t in tensors.items()}


def _losses(members, outputs, trials, loss_name: str) -> list[torch.Tensor]:
    """Each member's loss on its own (unpadded) steps, as train() computes it."""
    loss_fn = LOSSES[loss_name]
    return [
        loss_fn(outputs[k, :, : tr.n_steps], tr.targets, tr.mask) for k, tr in enumerate(trials)
    ]


def _train(members: list[_Member], stack: _Stack, device, progress: bool) -> None:
    cfg = members[0].spec.train_config  # its shared fields: n_steps, batch size, loss, eval
    names = [n for n, p in stack.params.items() if p.requires_grad]
    trainable = [stack.params[n] for n in names]
    adam = batched.MemberAdam(
        trainable,
        [m.spec.train_config.lr for m in members],
        [m.spec.train_config.weight_decay for m in members],
    )
    clips = [m.spec.train_config.grad_clip for m in members]
    max_norms = torch.tensor([math.inf if c is None else c for c in clips], device=device)
    _evaluate(members, stack, cfg, device, step=0)
    for step in tqdm(range(1, cfg.n_steps + 1), disable=not progress, mininterval=2.0):
        trials, inputs, noise, scale = _batch(members, cfg.batch_size, device, evaluation=False)
        losses = _losses(members, stack.forward(inputs, noise, scale), trials, cfg.loss)
        for m, loss in zip(members, losses, strict=True):
            _check(m, loss, torch.zeros(()), step)
        active = [m.failure is None for m in members]
        if not any(active):
            return
        for p in trainable:
            p.grad = None
        sum(loss for loss, on in zip(losses, active, strict=True) if on).backward()
        param_norms = torch.stack([p.grad.flatten(1).norm(dim=1) for p in trainable], 1).tolist()
        norms = batched.clip_grad_norms(trainable, max_norms)
        for m, loss, norm in zip(members, losses, norms, strict=True):
            _check(m, loss, norm, step)
        active = [m.failure is None for m in members]
        adam.step(active)
        rows = zip(members, losses, norms, active, param_norms, strict=True)
        for m, loss, norm, on, each in rows:
            if on:
                m.history.step.append(step)
                m.history.loss.append(loss.item())
                m.history.grad_norm.append(norm.item())
                for name, value in zip(names, each, strict=True):
                    m.history.param_grad_norm.setdefault(name, []).append(value)
        if step == cfg.n_steps or step % cfg.eval_every == 0:
            _evaluate(members, stack, cfg, device, step=step)


def _check(member: _Member, loss: torch.Tensor, grad_norm: torch.Tensor, step: int) -> None:
    """Mark ``member`` failed, with train()'s message, if its loss or gradient is not finite."""
    if member.failure is None:
        try:
            _check_finite(loss.detach(), grad_norm, step)
        except DivergenceError as error:
            member.failure = failure_line(member.spec, error)


@torch.no_grad()
def _evaluate(members: list[_Member], stack: _Stack, cfg, device, *, step: int) -> None:
    """Each member's loss and accuracy on fresh held-out trials (as train()'s _evaluate)."""
    trials, inputs, noise, scale = _batch(members, cfg.eval_batch_size, device, evaluation=True)
    outputs = stack.forward(inputs, noise, scale)
    losses = _losses(members, outputs, trials, cfg.loss)
    for k, (m, tr, loss) in enumerate(zip(members, trials, losses, strict=True)):
        if m.failure is not None:
            continue
        accuracy = math.nan
        if hasattr(m.task, "choices"):
            choices = m.task.choices(outputs[k, :, : tr.n_steps], tr)
            accuracy = (choices == m.task.correct_choices(tr)).float().mean().item()
        m.history.eval_step.append(step)
        m.history.eval_loss.append(loss.item())
        m.history.eval_accuracy.append(accuracy)


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
    models = [build_model(spec) for spec in specs]
    members = [_Member.create(spec, device) for spec in specs]
    stack = _Stack(models, members, device)
    with torch_threads(threads_for(specs[0].model_config.n_rec)):
        start = time.perf_counter()
        _train(members, stack, device, progress)
        wall_time = (time.perf_counter() - start) / len(specs)
        runs = {}
        for k, (member, model) in enumerate(zip(members, models, strict=True)):
            if member.failure is None:
                model.cpu().load_state_dict(stack.state_dict(k))
                runs[member.spec.key()] = _store_member(member, model, cache_dir, wall_time)
    return runs, [m.failure for m in members if m.failure is not None]


def _store_member(member: _Member, model, cache_dir: Path, wall_time: float) -> Run:
    """Store one trained member as an ordinary run (its share of the stack's wall time)."""
    spec, path = member.spec, Path(cache_dir) / member.spec.key()
    metadata = _metadata(spec, wall_time=wall_time) | {"trained_by": "fit_many, stacked"}
    _store(path, spec, model, member.history, metadata)
    return Run(spec, model, member.history, metadata, path, cached=False)
