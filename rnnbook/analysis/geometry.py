"""Geometry of population states by class: how far apart the class centroids are, relative to
how widely each class's states spread around its centroid."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnbook.analysis.results import Result
from rnnbook.tensors import class_centroids


@dataclass
class ClassSeparation(Result):
    """centroids: [C, N] mean state per class (classes in increasing label order);
    distance: Euclidean distance between the two centroids (mean over pairs for C > 2);
    spread: root mean squared distance of a state to its own class centroid;
    index: distance / spread, a scale-free separation (a multivariate d')."""

    centroids: torch.Tensor
    distance: float
    spread: float

    @property
    def index(self) -> float:
        return self.distance / self.spread if self.spread > 0 else float("inf")


def class_separation(states: torch.Tensor, labels: torch.Tensor) -> ClassSeparation:
    """Separation of the classes ``labels [B]`` in ``states [B, N]`` (at least two classes).

    The raw distance grows with the overall scale of the activity; ``index`` does not, which
    is what makes networks with different rate scales comparable.
    """
    states, labels = torch.as_tensor(states).detach().double(), torch.as_tensor(labels)
    if states.ndim != 2 or labels.shape != states.shape[:1]:
        raise ValueError(f"want states [B, N] and labels [B]; got {states.shape}, {labels.shape}")
    centroids = class_centroids(states, labels)
    if len(centroids) < 2:
        raise ValueError("class_separation needs trials of at least two classes")
    _, index = torch.unique(labels, return_inverse=True)
    spread = (states - centroids[index]).pow(2).sum(1).mean().sqrt()
    return ClassSeparation(
        centroids=centroids.float(),
        distance=float(torch.pdist(centroids).mean()),
        spread=float(spread),
    )
