"""Validation helpers for frozen config dataclasses: errors name the field, value and range."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable


def field_name(obj, field: str) -> str:
    """``ClassName.field``, as every validation error names it."""
    return f"{type(obj).__name__}.{field}"


def _number(obj, field: str):
    """The field's value if it is a real number (not a bool), else a ValueError naming it."""
    value = getattr(obj, field)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is not allowed: want a number, got "
            f"{type(value).__name__}"
        )
    return value


def check_type(obj, field: str, kind: type) -> None:
    """Raise ValueError unless obj.field is an instance of ``kind``."""
    value = getattr(obj, field)
    if not isinstance(value, kind):
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is not allowed: want a {kind.__name__}, got "
            f"{type(value).__name__}"
        )


def check_integer(obj, field: str, *, minimum: int | None = None) -> None:
    """Raise ValueError unless obj.field is an integer (not a bool), at least ``minimum``."""
    value = getattr(obj, field)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is not allowed: want an integer, got "
            f"{type(value).__name__}"
        )
    if minimum is not None and value < minimum:
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is out of range: must be >= {minimum}"
        )


def check_range(obj, field: str, low: float, high: float, *, closed: str = "both") -> None:
    """Raise ValueError unless low <= obj.field <= high (closed: both, left, right, neither)."""
    value = _number(obj, field)
    lo_ok = value >= low if closed in ("both", "left") else value > low
    hi_ok = value <= high if closed in ("both", "right") else value < high
    if not (lo_ok and hi_ok):
        left = "[" if closed in ("both", "left") else "("
        right = "]" if closed in ("both", "right") else ")"
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is out of range: "
            f"allowed {left}{low}, {high}{right}"
        )


def check_positive(obj, field: str) -> None:
    """Raise ValueError unless obj.field is a finite number > 0."""
    value = _number(obj, field)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is out of range: must be finite and > 0"
        )


def check_nonnegative(obj, field: str) -> None:
    """Raise ValueError unless obj.field is a finite number >= 0."""
    value = _number(obj, field)
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is out of range: must be finite and >= 0"
        )


def check_choice(obj, field: str, allowed: Iterable[str]) -> None:
    value = getattr(obj, field)
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is not allowed: choose one of {allowed}"
        )


def check_duration(obj, field: str) -> None:
    """A duration in ms: a positive number or a ``(low, high)`` range with 0 <= low <= high."""
    value = getattr(obj, field)
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or not 0 <= value[0] <= value[1]:
            raise ValueError(
                f"{field_name(obj, field)} = {value!r} is not a duration range: want (low, high) "
                "with 0 <= low <= high, in ms"
            )
    elif not value >= 0:
        raise ValueError(f"{field_name(obj, field)} = {value!r} is out of range: must be >= 0 ms")
