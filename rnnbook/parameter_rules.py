"""What a study parameter may be: a ``Rule`` from the type of its notebook default and its
``allowed`` entry in notebooks/presets.yaml (the format is in ``rnnbook.studies``' docstring).

    rule = parse_rule("perceptual_decision", "lr", 1e-3, "> 0")
    rule.problem(-1.0)  # what is wrong with a value, or None
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

_NOUNS = {  # kind -> (one value, several values)
    "bool": ("true or false", "bools"),
    "int": ("an integer", "integers"),
    "float": ("a number", "numbers"),
    "str": ("a string", "strings"),
    "any": ("a value", "values"),
}


@dataclass(frozen=True)
class Rule:
    """What one study parameter may be (``parameter_rules``): the kind of its notebook default
    and the range or choices of its ``allowed`` entry in presets.yaml.

    ``kind``: bool | int | float | str | list, or any (a default of another type: unchecked);
    a list's ``item`` kind: int | float (all numbers) | str | bool | any. Bounds, ``choices``
    and the flags apply to the value, or to every item of a list.
    """

    kind: str
    item: str | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # (a, ...: the value must be > low, not >= low
    high_open: bool = False
    choices: tuple | None = None
    non_empty: bool = False  # a list needs one item at least
    length: int | None = None  # a list needs exactly this many items
    nullable: bool = False  # None is allowed too
    text: str | None = None  # the rule as written in presets.yaml (None: no rule, type only)

    def describe(self) -> str:
        """What is allowed, e.g. ``a number > 0 (float)``."""
        if self.kind == "list":
            size = f"{self.length} " if self.length is not None else ""
            what = f"a list of {size}{_NOUNS[self.item][1]}"
            if self.choices is not None:
                what += f", each one of {', '.join(map(repr, self.choices))}"
            elif self._range():
                what += f" {self._range()}"
            if self.non_empty and self.length is None:
                what += ", non-empty"
            label = f"list of {self.item}"
        else:
            if self.choices is not None:
                what = f"one of {', '.join(map(repr, self.choices))}"
            else:
                what = " ".join(filter(None, [_NOUNS[self.kind][0], self._range()]))
            label = self.kind
        what += " or None" if self.nullable else ""
        return what if label in ("any", "list of any") else f"{what} ({label})"

    def _range(self) -> str:
        low, high = self.low, self.high
        if low is not None and high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"in {left}{low}, {high}{right}"
        if low is not None:
            return f"{'>' if self.low_open else '>='} {low}"
        if high is not None:
            return f"{'<' if self.high_open else '<='} {high}"
        return ""

    def problem(self, value: object) -> str | None:
        """None if ``value`` is allowed, else what is wrong: ``", got str"``, or ``""`` for a
        value of the right type that is out of range or not a choice."""
        if value is None:
            return None if self.nullable or self.kind == "any" else ", got None"
        if self.kind != "list":
            wrong = self._scalar_problem(self.kind, value)
            return None if wrong is None else f", got {wrong}" if wrong else ""
        if not isinstance(value, list):
            return f", got {_type_name(value)}"
        if self.length is not None and len(value) != self.length:
            return f", got {len(value)} item{'' if len(value) == 1 else 's'}"
        if self.non_empty and not value:
            return ", got an empty list"
        for i, item in enumerate(value):
            wrong = self._scalar_problem(self.item, item)
            if wrong is not None:
                return f", got item {i} = {item!r}" + (f" ({wrong})" if wrong else "")
        return None

    def _scalar_problem(self, kind: str, value: object) -> str | None:
        """None: allowed; "": out of range or not a choice; else what the value is instead."""
        if not _is_kind(kind, value):
            return _type_name(value)
        if kind == "float" and not isinstance(value, numbers.Integral):
            if not math.isfinite(value):
                return "a non-finite number"
        if self.choices is not None:
            return None if value in self.choices else ""
        if kind in ("int", "float"):
            low, high = self.low, self.high
            if low is not None and (value < low or (self.low_open and value == low)):
                return ""
            if high is not None and (value > high or (self.high_open and value == high)):
                return ""
        return None


def _is_kind(kind: str, value: object) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    return True


def _type_name(value: object) -> str:
    return "None" if value is None else type(value).__name__


def kind_of(default: object) -> tuple[str, str | None]:
    """(kind, item kind) of a notebook default (see ``Rule``)."""
    if isinstance(default, bool):
        return "bool", None
    if isinstance(default, int):
        return "int", None
    if isinstance(default, float):
        return "float", None
    if isinstance(default, str):
        return "str", None
    if isinstance(default, list):
        kinds = {kind_of(item)[0] for item in default}
        if kinds and kinds <= {"int", "float"}:
            return "list", "float" if "float" in kinds else "int"
        return "list", kinds.pop() if len(kinds) == 1 and kinds <= {"str", "bool"} else "any"
    return "any", None


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_BOUND = re.compile(rf"(>=|>|<=|<)\s*({_NUM})")
_INTERVAL = re.compile(rf"([\[(])\s*({_NUM})\s*,\s*({_NUM})\s*([\])])")
_LENGTH = re.compile(r"length\s+(\d+)")
RULE_FORMS = (
    "a string: a range (>= a, > a, <= a, < a, [a, b], (a, b], [a, b), (a, b)) or 'any', then "
    "flags after commas (non-empty, length N, or null); or a list of choices"
)


def _number(text: str) -> int | float:
    return int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)


def _split_rule(text: str) -> list[str]:
    """The parts of a rule string between commas outside brackets, stripped."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "[(") - (char in "])")
        if char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    return [*parts, text[start:].strip()]


def parse_rule(study: str, name: str, default: object, spec: object) -> Rule:
    """The Rule of a parameter from its notebook default and its presets.yaml ``spec``."""
    kind, item = kind_of(default)

    def bad(why: str) -> ValueError:
        return ValueError(
            f"notebooks/presets.yaml: study {study!r}: the rule allowed.{name} = {spec!r} is not "
            f"understood: {why}"
        )

    fields: dict = {"text": str(spec), "nullable": default is None}
    if isinstance(spec, list):
        choices = tuple(choice for choice in spec if choice is not None)
        target = item if kind == "list" else kind
        for choice in choices:
            if not _is_kind(target, choice):
                raise bad(f"the choice {choice!r} is not {_NOUNS[target][0]}")
        if not choices:
            raise bad("no choices")
        fields["nullable"] |= None in spec
        return Rule(kind, item, choices=choices, **fields)
    if not isinstance(spec, str):
        raise bad(f"want {RULE_FORMS}")
    first, *flags = _split_rule(spec)
    if kind == "any" and default is None and first != "any":
        kind = "float"  # a default of None with a range: a number or None
    target = item if kind == "list" else kind
    if first != "any":
        if target not in ("int", "float"):
            raise bad(
                f"a range needs numbers, and {name} is {_NOUNS[kind][0]} (a list of choices?)"
            )
        if match := _BOUND.fullmatch(first):
            bound, value = match[1], _number(match[2])
            side = "low" if bound.startswith(">") else "high"
            fields[side], fields[f"{side}_open"] = value, len(bound) == 1
        elif match := _INTERVAL.fullmatch(first):
            fields["low"], fields["high"] = _number(match[2]), _number(match[3])
            fields["low_open"], fields["high_open"] = match[1] == "(", match[4] == ")"
            open_ = fields["low_open"] or fields["high_open"]
            if fields["low"] > fields["high"] or (open_ and fields["low"] == fields["high"]):
                raise bad("the interval is empty")
        else:
            raise bad(f"want {RULE_FORMS}")
    for flag in flags:
        if flag == "or null":
            fields["nullable"] = True
        elif flag == "non-empty" or _LENGTH.fullmatch(flag):
            if kind != "list":
                raise bad(f"{flag!r} is for a list, and {name} is {_NOUNS[kind][0]}")
            if flag == "non-empty":
                fields["non_empty"] = True
            else:
                fields["length"] = int(_LENGTH.fullmatch(flag)[1])
        else:
            raise bad(f"unknown flag {flag!r}: want {RULE_FORMS}")
    return Rule(kind, item, **fields)
