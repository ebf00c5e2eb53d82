"""Validation helpers for frozen config dataclasses: errors name the field, value and range.

Every error is a ValueError that reads ``Class.field = value is ...: allowed / want / must /
choose ...``. Numbers are real numbers that are not booleans, finite, and within float32's
range (every tensor is float32: a larger number would become inf in one); a string that looks
like a number (``"3"``) is not a number.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping

FLOAT32_MAX = 3.4028234663852886e38  # the largest finite float32


def field_name(obj, field: str) -> str:
    """``ClassName.field``, as every validation error names it."""
    return f"{type(obj).__name__}.{field}"


def is_number(value) -> bool:
    """Whether ``value`` is a real number (not a bool), finite and within float32's range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return abs(float(value)) <= FLOAT32_MAX  # False for NaN and +-inf
    except OverflowError:  # an integer too large for a float
        return False


def check_number(obj, field: str):
    """The field's value if it is a number (``is_number``), else a ValueError naming it."""
    value = getattr(obj, field)
    name = field_name(obj, field)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{name} = {value!r} is not allowed: want a number, got {type(value).__name__}"
        )
    if not is_number(value):
        raise ValueError(
            f"{name} = {value!r} is out of range: want a finite number within float32's range "
            f"(|x| <= {FLOAT32_MAX:.4g})"
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
    value = check_number(obj, field)
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
    value = check_number(obj, field)
    if not value > 0:
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is out of range: must be finite and > 0"
        )


def check_nonnegative(obj, field: str) -> None:
    """Raise ValueError unless obj.field is a finite number >= 0."""
    value = check_number(obj, field)
    if not value >= 0:
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is out of range: must be finite and >= 0"
        )


def check_choice(obj, field: str, allowed: Iterable[str]) -> None:
    """Raise ValueError unless obj.field is one of the names ``allowed``."""
    value = getattr(obj, field)
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"{field_name(obj, field)} = {value!r} is not allowed: choose one of {allowed}"
        )


def coerce_tuple(obj, field: str) -> None:
    """A list in obj.field becomes a tuple (configs are frozen and hashable)."""
    value = getattr(obj, field)
    if isinstance(value, list):
        object.__setattr__(obj, field, tuple(value))


def check_duration(obj, field: str) -> None:
    """A duration in ms: a number >= 0 or a ``(low, high)`` range with 0 <= low <= high (a list
    becomes a tuple)."""
    coerce_tuple(obj, field)
    value = getattr(obj, field)
    name = field_name(obj, field)
    if isinstance(value, tuple):
        if len(value) != 2 or not all(is_number(v) for v in value):
            raise ValueError(
                f"{name} = {value!r} is not a duration range: want (low, high), two finite "
                "numbers in ms with 0 <= low <= high"
            )
        if not 0 <= value[0] <= value[1]:
            raise ValueError(
                f"{name} = {value!r} is out of range: want (low, high) in ms with 0 <= low <= high"
            )
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{name} = {value!r} is not allowed: want a duration in ms, a number >= 0 or a "
            f"(low, high) range, got {type(value).__name__}"
        )
    if not check_number(obj, field) >= 0:
        raise ValueError(f"{name} = {value!r} is out of range: must be >= 0 ms")


def duration_bounds(value) -> tuple[float, float]:
    """(low, high) of a checked duration: a number is both."""
    if isinstance(value, tuple):
        return float(value[0]), float(value[1])
    return float(value), float(value)


def check_levels(
    obj, field: str, low: float = -math.inf, high: float = math.inf
) -> tuple[float, ...]:
    """One or more numbers, each in [low, high], given as a tuple or list; stored (and returned)
    as a tuple of floats. The error shows the value as given."""
    value = getattr(obj, field)
    name = field_name(obj, field)
    if not isinstance(value, (tuple, list)):
        raise ValueError(
            f"{name} = {value!r} is not allowed: want a list of one or more numbers, got "
            f"{type(value).__name__}"
        )
    if not value or not all(is_number(v) for v in value):
        raise ValueError(
            f"{name} = {value!r} is not allowed: want a list of one or more finite numbers"
        )
    if not all(low <= v <= high for v in value):
        raise ValueError(f"{name} = {value!r} is out of range: want each level in [{low}, {high}]")
    levels = tuple(float(v) for v in value)
    object.__setattr__(obj, field, levels)
    return levels


def init_fields(cls) -> list[dataclasses.Field]:
    """The fields of dataclass ``cls`` that its constructor takes."""
    return [f for f in dataclasses.fields(cls) if f.init]


def check_field_names(cls, names: Iterable, *, where: str | None = None) -> None:
    """Raise ValueError naming the ``names`` that are no constructor field of dataclass ``cls``
    and listing the allowed ones."""
    allowed = [f.name for f in init_fields(cls)]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        where = cls.__name__ if where is None else where
        raise ValueError(
            f"{where}: unknown field{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(n) for n in unknown)}: allowed fields of {cls.__name__} are "
            f"{', '.join(allowed)}"
        )


def config_from_dict(cls, data, *, where: str | None = None):
    """``cls(**data)`` for a config dataclass ``cls``, with a ValueError instead of Python's
    TypeError when ``data`` is no mapping, has an unknown key (naming it and listing the
    allowed fields) or lacks a required field. ``where`` names the data in errors (default:
    the class name), e.g. ``"TrainConfig.curriculum"``."""
    where = cls.__name__ if where is None else where
    if not isinstance(data, Mapping):
        raise ValueError(
            f"{where} = {data!r} is not allowed: want a mapping of {cls.__name__}'s field names "
            "to values"
        )
    check_field_names(cls, data, where=f"{where} = {data!r}")
    required = [
        f.name
        for f in init_fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in data]
    if missing:
        raise ValueError(
            f"{where} = {data!r} is not allowed: it must give {', '.join(missing)} "
            f"(required fields of {cls.__name__})"
        )
    return cls(**data)
