"""Saving and loading analysis results: one mechanism for every result dataclass.

A result class inherits :class:`Result`; ``result.save(path)`` writes its fields with
``torch.save`` and ``Cls.load(path)`` reads them back with ``torch.load(weights_only=True)``,
so a file never runs code when it is read. Fields may be tensors, numpy arrays (of numbers or
bools), numbers, strings, None, and lists, tuples, dicts and other results made of them. The
file is written to a temporary name in the same folder and renamed, so a crash never leaves a
half-written file under ``path``.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

FORMAT = "rnnbook.analysis.result"
VERSION = 1
_TAG = "__rnnbook__"  # marks the encoded numpy arrays and nested results


class Result:
    """Mixin of result dataclasses: ``save(path)`` and ``load(path)``."""

    _registry: ClassVar[dict[str, type[Result]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        known = Result._registry.get(cls.__name__)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"two result classes are named {cls.__name__}: rename one")
        Result._registry[cls.__name__] = cls

    def save(self, path: str | os.PathLike) -> Path:
        """Write this result to ``path`` atomically (temporary file, then rename)."""
        path = Path(path)
        payload = {"format": FORMAT, "version": VERSION, "result": encode(self)}
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as file:
                torch.save(payload, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Read a result written by :meth:`save` (``torch.load(weights_only=True)``)."""
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as error:  # e.g. a pickle that would run code
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise pickle.UnpicklingError(f"{path}: refused: {first}") from None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"{path} is not a saved rnnbook analysis result")
        if payload["version"] > VERSION:
            raise ValueError(f"{path} has format version {payload['version']}: update rnnbook")
        result = decode(payload["result"])
        if not isinstance(result, cls):
            raise ValueError(f"{path} holds a {type(result).__name__}, not a {cls.__name__}")
        return result


def encode(value: Any) -> Any:
    """``value`` in types that ``torch.load(weights_only=True)`` reads back."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise TypeError(f"cannot save a numpy array of dtype {value.dtype}")
        return {_TAG: "ndarray", "data": torch.from_numpy(np.ascontiguousarray(value))}
    if isinstance(value, Result) and dataclasses.is_dataclass(value):
        items = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {_TAG: "result", "class": type(value).__name__, "fields": items}
    if isinstance(value, (list, tuple)):
        return type(value)(encode(v) for v in value)
    if isinstance(value, dict) and all(isinstance(k, str) and k != _TAG for k in value):
        return {k: encode(v) for k, v in value.items()}
    raise TypeError(f"cannot save a value of type {type(value).__name__}: {value!r:.80}")


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, (list, tuple)):
        return type(value)(decode(v) for v in value)
    if not isinstance(value, dict):
        return value
    kind = value.get(_TAG)
    if kind == "ndarray":
        return value["data"].numpy()
    if kind == "result":
        cls = Result._registry.get(value["class"])
        if cls is None:
            raise ValueError(f"unknown result class {value['class']!r}")
        return cls(**{k: decode(v) for k, v in value["fields"].items()})
    return {k: decode(v) for k, v in value.items()}
