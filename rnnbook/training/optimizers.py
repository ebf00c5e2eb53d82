"""Optimisers (registry ``OPTIMIZERS``), chosen by ``TrainConfig.optimizer``.

An optimiser updates K networks at once: every tensor has the member axis first (``[K, ...]``;
a single network is K = 1), each member has its own settings (its ``TrainConfig``: lr, weight
decay, momentum, ...), and only the members marked active are updated (a member that diverged
keeps its parameters, and its NaN gradient stays out of the optimiser's state). Single-network
and many-network training use the same code.

    optimizer = OPTIMIZERS["adam"](params, names, configs)  # configs: one TrainConfig a member
    optimizer.step(grads, active=[True] * K)

``names`` are the parameters' names (as ``model.named_parameters()`` gives them), by which an
optimiser tells their roles apart: the recurrent weights are the parameters of the model's
recurrence module (``recurrence.*``, :func:`is_recurrent`), and a parameter named ``*_raw`` is
a magnitude whose absolute value is the weight (Dale's ``|raw| * sign``, a non-negative
``|raw| * mask``; :func:`is_magnitude`).

- ``adam``: ``torch.optim.Adam``'s update (lr, weight_decay).
- ``sgd``: seed 000's gradient descent (lr, momentum, weight_decay), on every parameter.
- ``eg``: seed 000's exponentiated gradient (lr, eg_momentum, weight_decay, min_magnitude) on
  the recurrent weights, and its gradient descent (lr_other, momentum, weight_decay) on every
  other parameter.

``sgd`` and ``eg`` keep every weight within float32's range (a huge learning rate cannot
overflow one).
"""

from __future__ import annotations

import torch

from rnnbook.validation import FLOAT32_MAX

RECURRENT_PREFIX = "recurrence."  # the parameters of the model's recurrence module
MAGNITUDE_SUFFIX = "_raw"  # a parameter whose absolute value is the weight
MAX_EXPONENT = 80.0  # an EG factor is at most exp(80): finite in float32, and 0 * it is 0


def is_recurrent(name: str) -> bool:
    """Whether the parameter ``name`` holds recurrent weights."""
    return name.startswith(RECURRENT_PREFIX)


def is_magnitude(name: str) -> bool:
    """Whether the parameter ``name`` is a magnitude: the weight is its absolute value times a
    fixed sign or mask (Dale's law, non-negative weights)."""
    return name.endswith(MAGNITUDE_SUFFIX)


def per_member(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """[K] -> [K, 1, ...] broadcasting against ``like`` [K, ...]."""
    return values.view(-1, *([1] * (like.dim() - 1)))


def _member_values(values, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor([float(v) for v in values], dtype=like.dtype, device=like.device)


def _masked(grad: torch.Tensor, keep: torch.Tensor, active: list[bool]) -> torch.Tensor:
    """``grad`` with the inactive members' (possibly NaN) gradients set to zero."""
    return grad if all(active) else torch.where(per_member(keep, grad), grad, 0.0)


def _write(param: torch.Tensor, new: torch.Tensor, keep: torch.Tensor, active: list[bool]):
    """``param <- new`` for the active members (the others keep their values)."""
    param.copy_(new if all(active) else torch.where(per_member(keep, new), new, param))


class Adam:
    """Adam (Kingma & Ba 2015) as ``torch.optim.Adam`` computes it (L2 weight decay added to
    the gradient, bias-corrected moments, eps outside the square root), per member."""

    def __init__(self, params, names, configs, *, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.step_count = list(params), [c.lr for c in configs], 0
        self.beta1, self.beta2, self.eps = betas[0], betas[1], eps
        like = self.params[0]
        self.weight_decay = _member_values([c.weight_decay for c in configs], like)
        self.decays = any(c.weight_decay != 0 for c in configs)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor], active: list[bool]) -> None:
        self.step_count += 1
        bias_correction1 = 1 - self.beta1**self.step_count
        bias_correction2_sqrt = (1 - self.beta2**self.step_count) ** 0.5
        like = self.params[0]
        steps = [
            -lr / bias_correction1 if on else 0.0 for lr, on in zip(self.lr, active, strict=True)
        ]
        neg_step = torch.tensor(steps, dtype=like.dtype, device=like.device)
        keep = torch.tensor(active, device=like.device)
        moments = zip(self.params, grads, self.exp_avg, self.exp_avg_sq, strict=True)
        for p, grad, exp_avg, exp_avg_sq in moments:
            if self.decays:
                grad = grad + per_member(self.weight_decay, p) * p
            grad = _masked(grad, keep, active)  # a failed member's gradient may be NaN
            exp_avg.lerp_(grad, 1 - self.beta1)
            exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
            p.add_(per_member(neg_step, p) * exp_avg / denom)


class _Group:
    """One group of parameters with a learning rate, a momentum and a weight decay per member
    (``[K]`` tensors) and, with momentum, one buffer per parameter."""

    def __init__(self, params, lrs, momenta, decays):
        self.params = list(params)
        self.like = self.params[0] if self.params else torch.zeros(())
        self.lr = _member_values(lrs, self.like)
        self.momentum = _member_values(momenta, self.like)
        self.weight_decay = _member_values(decays, self.like)
        self.has_momentum, self.decays = any(m != 0 for m in momenta), any(d != 0 for d in decays)
        self.buffers = [torch.zeros_like(p) for p in self.params] if self.has_momentum else []


class GradientDescent(_Group):
    """Seed 000's gradient descent step on ``params``, per member (its ``SGD_EG``, "gd"):

        buf <- momentum * buf + grad  (no dampening; buf = grad without momentum)
        g   <- buf + weight_decay * w
        w   <- w - lr * g

    then a magnitude parameter (``is_magnitude``) is set to its absolute value: its weight
    ``|raw| * sign`` is unchanged, and every step then equals seed 000's GD step on the
    effective weight followed by ``project_EI_`` (a weight that crossed zero reflected to
    ``|w| * sign``), momentum included. ``lrs``, ``momenta``, ``decays``: one value a member.
    """

    def __init__(self, params, names, lrs, momenta, decays):
        super().__init__(params, lrs, momenta, decays)
        self.magnitude = [is_magnitude(n) for n in names]

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor], active: list[bool]) -> None:
        if not self.params:
            return
        keep = torch.tensor(active, device=self.params[0].device)
        for i, (p, grad) in enumerate(zip(self.params, grads, strict=True)):
            grad = _masked(grad, keep, active)
            if self.has_momentum:
                grad = self.buffers[i].mul_(per_member(self.momentum, p)).add_(grad)
            if self.decays:
                grad = grad + per_member(self.weight_decay, p) * p
            new = (p - per_member(self.lr, p) * grad).clamp_(-FLOAT32_MAX, FLOAT32_MAX)
            if self.magnitude[i]:
                new.abs_()
            _write(p, new, keep, active)


class ExponentiatedGradient(_Group):
    """Seed 000's exponentiated gradient step on ``params``, per member (its ``SGD_EG``, "eg";
    Cornford et al. 2024 with seed 000's weight decay):

        g_mag <- sign(w) * grad + weight_decay * |w|
        buf   <- momentum * buf + g_mag;  g_mag <- buf  (without momentum: g_mag itself)
        w     <- w * exp(-lr * g_mag)
        w     <- sign(w) * max(|w|, min_magnitude)

    A weight never changes sign (exp > 0; the sign is the one before the step, so a factor
    that underflows leaves ``min_magnitude`` with the weight's sign) and a weight of zero
    gradient is unchanged (weight decay 0). On a magnitude parameter (Dale's ``|raw| * sign``)
    ``sign(raw) * grad_raw = sign(W) * grad_W`` and ``|raw| = |W|``, so the effective weight W
    follows exactly this step. The exponent is at most ``MAX_EXPONENT``.
    """

    def __init__(self, params, lrs, momenta, decays, min_magnitudes):
        super().__init__(params, lrs, momenta, decays)
        self.min_magnitude = _member_values(min_magnitudes, self.like)
        self.floors = any(m > 0 for m in min_magnitudes)

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor], active: list[bool]) -> None:
        if not self.params:
            return
        keep = torch.tensor(active, device=self.params[0].device)
        for i, (p, grad) in enumerate(zip(self.params, grads, strict=True)):
            sign = p.sign()
            g_mag = sign * _masked(grad, keep, active)
            if self.decays:
                g_mag = g_mag + per_member(self.weight_decay, p) * p.abs()
            if self.has_momentum:
                g_mag = self.buffers[i].mul_(per_member(self.momentum, p)).add_(g_mag)
            exponent = (-per_member(self.lr, p) * g_mag).clamp_(max=MAX_EXPONENT)
            new = p * exponent.exp_()
            if self.floors:
                new = sign * torch.maximum(new.abs(), per_member(self.min_magnitude, p))
            _write(p, new.clamp_(-FLOAT32_MAX, FLOAT32_MAX), keep, active)


class SGD:
    """``sgd``: :class:`GradientDescent` on every parameter (lr, momentum, weight_decay)."""

    def __init__(self, params, names, configs):
        self.descent = GradientDescent(
            params,
            names,
            [c.lr for c in configs],
            [c.momentum for c in configs],
            [c.weight_decay for c in configs],
        )

    def step(self, grads: list[torch.Tensor], active: list[bool]) -> None:
        self.descent.step(grads, active)


class EG:
    """``eg``: :class:`ExponentiatedGradient` on the recurrent weights (lr, eg_momentum,
    weight_decay, min_magnitude); :class:`GradientDescent` on every other parameter
    (``lr_other``, or lr where it is None; momentum; weight_decay): seed 000's parameter
    groups."""

    def __init__(self, params, names, configs):
        params, names = list(params), list(names)
        self.recurrent = [is_recurrent(n) for n in names]
        decays = [c.weight_decay for c in configs]
        self.exponentiated = ExponentiatedGradient(
            [p for p, r in zip(params, self.recurrent, strict=True) if r],
            [c.lr for c in configs],
            [c.eg_momentum for c in configs],
            decays,
            [c.min_magnitude for c in configs],
        )
        self.descent = GradientDescent(
            [p for p, r in zip(params, self.recurrent, strict=True) if not r],
            [n for n, r in zip(names, self.recurrent, strict=True) if not r],
            [c.lr if c.lr_other is None else c.lr_other for c in configs],
            [c.momentum for c in configs],
            decays,
        )

    def step(self, grads: list[torch.Tensor], active: list[bool]) -> None:
        grads = list(grads)
        self.exponentiated.step(
            [g for g, r in zip(grads, self.recurrent, strict=True) if r], active
        )
        self.descent.step([g for g, r in zip(grads, self.recurrent, strict=True) if not r], active)


OPTIMIZERS = {"adam": Adam, "sgd": SGD, "eg": EG}
