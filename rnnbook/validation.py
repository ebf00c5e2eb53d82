"""Validation helpers for frozen config dataclasses: errors name the field, value and range."""

from __future__ import annotations

from collections.abc import Iterable


def _name(obj, field: str) -> str:
    return f"{type(obj).__name__}.{field}"


def check_range(obj, field: str, low: float, high: float, *, closed: str = "both") -> None:
    """Raise ValueError unless low <= obj.field <= high (closed: both, left, right, neither)."""
    value = getattr(obj, field)
    lo_ok = value >= low if closed in ("both", "left") else value > low
    hi_ok = value <= high if closed in ("both", "right") else value < high
    if not (lo_ok and hi_ok):
        left = "[" if closed in ("both", "left") else "("
        right = "]" if closed in ("both", "right") else ")"
        raise ValueError(
            f"{_name(obj, field)} = {value!r} is out of range: allowed {left}{low}, {high}{right}"
        )


def check_positive(obj, field: str) -> None:
    value = getattr(obj, field)
    if not value > 0:
        raise ValueError(f"{_name(obj, field)} = {value!r} is out of range: must be > 0")


def check_nonnegative(obj, field: str) -> None:
    value = getattr(obj, field)
    if not value >= 0:
        raise ValueError(f"{_name(obj, field)} = {value!r} is out of range: must be >= 0")


def check_choice(obj, field: str, allowed: Iterable[str]) -> None:
    value = getattr(obj, field)
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{_name(obj, field)} = {value!r} is not allowed: choose one of {allowed}")


def check_duration(obj, field: str) -> None:
    """A duration in ms: a positive number or a ``(low, high)`` range with 0 <= low <= high."""
    value = getattr(obj, field)
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or not 0 <= value[0] <= value[1]:
            raise ValueError(
                f"{_name(obj, field)} = {value!r} is not a duration range: want (low, high) "
                "with 0 <= low <= high, in ms"
            )
    elif not value >= 0:
        raise ValueError(f"{_name(obj, field)} = {value!r} is out of range: must be >= 0 ms")
