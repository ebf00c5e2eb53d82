"""Study parameters are checked (type and range) before anything runs: ``allowed`` rules in
notebooks/presets.yaml, ``studies.check_parameters`` and ``rnnbook run -p``.

The fuzz tests draw, for every study of ``studies.list_studies()``, good values within each
parameter's rule (accepted) and bad ones (refused, naming the study, the parameter and the
value). Their strategies are built from the parsed ``studies.Rule``; the rule format itself is
pinned by the table tests on a toy study below.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import nbformat
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnbook import cli, studies


@pytest.fixture(autouse=True)
def ieee_floats():
    """train() flushes denormal floats to zero for the whole process (rnnbook.runtime); hypothesis
    draws floats only where they follow IEEE 754, so turn flushing off for these tests."""
    torch.set_flush_denormal(False)


ROOT = Path(__file__).resolve().parents[1]
STUDIES = studies.list_studies(root=ROOT)

FUZZ = settings(
    max_examples=500,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@functools.cache
def rules(name: str) -> dict[str, studies.Rule]:
    return studies.parameter_rules(name, root=ROOT)


# -- strategies from a rule -------------------------------------------------------------------

FINITE = st.floats(allow_nan=False, allow_infinity=False)
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
TEXT = st.text(max_size=12)
NUMERIC_TEXT = st.one_of(
    st.integers().map(str),
    FINITE.map(repr),
    st.sampled_from(["1e-3", "16", "0.5", ".inf", "nan", "true", "no", "[0.1]"]),
)
DICTS = st.dictionaries(st.text(max_size=4), st.integers(), min_size=0, max_size=2)


def int_bounds(rule: studies.Rule) -> tuple[int | None, int | None]:
    """The smallest and largest integers within the rule's bounds (None: unbounded)."""
    low = high = None
    if rule.low is not None:
        low = math.ceil(rule.low) + (rule.low_open and math.ceil(rule.low) == rule.low)
    if rule.high is not None:
        high = math.floor(rule.high) - (rule.high_open and math.floor(rule.high) == rule.high)
    return low, high


def good_scalar(kind: str, rule: studies.Rule) -> st.SearchStrategy:
    if rule.choices is not None:
        return st.sampled_from(rule.choices)
    if kind == "bool":
        return st.booleans()
    if kind == "str":
        return TEXT
    low, high = int_bounds(rule)
    no_integer = low is not None and high is not None and low > high  # e.g. (0, 1)
    integers = st.nothing() if no_integer else st.integers(min_value=low, max_value=high)
    if kind == "int":
        return integers
    bounds = {}
    if rule.low is not None:
        bounds |= {"min_value": rule.low, "exclude_min": rule.low_open}
    if rule.high is not None:
        bounds |= {"max_value": rule.high, "exclude_max": rule.high_open}
    return st.one_of(st.floats(allow_nan=False, allow_infinity=False, **bounds), integers)


@functools.cache  # strategies are built once per rule: building them is the slow part
def good_value(rule: studies.Rule) -> st.SearchStrategy:
    if rule.kind == "list":
        size = rule.length if rule.length is not None else None
        low = size if size is not None else int(rule.non_empty)
        value = st.lists(good_scalar(rule.item, rule), min_size=low, max_size=size or 6)
    else:
        value = good_scalar(rule.kind, rule)
    return st.one_of(value, st.none()) if rule.nullable else value


def out_of_range(kind: str, rule: studies.Rule) -> list[st.SearchStrategy]:
    """Numbers of the right type outside the rule's bounds."""
    if kind not in ("int", "float") or rule.choices is not None:
        return []
    low, high = int_bounds(rule)
    found = []
    if rule.low is not None:
        found.append(st.integers(max_value=low - 1))
        if kind == "float":
            below = st.floats(max_value=rule.low, exclude_max=not rule.low_open)
            found.append(below.filter(lambda x: x < rule.low or (rule.low_open and x == rule.low)))
    if rule.high is not None:
        found.append(st.integers(min_value=high + 1))
        if kind == "float":
            above = st.floats(min_value=rule.high, exclude_min=not rule.high_open)
            found.append(
                above.filter(lambda x: x > rule.high or (rule.high_open and x == rule.high))
            )
    return found


def bad_scalar(kind: str, rule: studies.Rule, *, nullable: bool) -> st.SearchStrategy:
    """Values that are not allowed as a scalar of ``kind`` under ``rule``."""
    wrong_types = [DICTS, st.lists(st.integers(), max_size=3), st.just((1, 2))]
    if not nullable:
        wrong_types.append(st.none())
    if kind == "bool":
        wrong_types += [TEXT, NUMERIC_TEXT, st.integers(), FINITE, NON_FINITE]
    elif kind == "int":
        wrong_types += [TEXT, NUMERIC_TEXT, st.booleans(), FINITE, NON_FINITE]
        wrong_types.append(st.integers(-(10**6), 10**6).map(float))  # 16.0 is not an integer
    elif kind == "float":
        wrong_types += [TEXT, NUMERIC_TEXT, st.booleans(), NON_FINITE, st.just(1 + 2j)]
    elif kind == "str":
        wrong_types += [st.integers(), FINITE, st.booleans()]
    if rule.choices is not None:
        choices = [c for c in rule.choices if isinstance(c, str)]
        variants = [v for c in choices for v in (c.upper(), f" {c}", f"{c}_", "")]
        wrong_types.append(st.sampled_from(variants or ["?"]).filter(lambda v: v not in choices))
        wrong_types.append(TEXT.filter(lambda v: v not in rule.choices))
    return st.one_of(*wrong_types, *out_of_range(kind, rule))


@functools.cache
def bad_value(rule: studies.Rule) -> st.SearchStrategy:
    if rule.kind != "list":
        return bad_scalar(rule.kind, rule, nullable=rule.nullable)
    item = good_scalar(rule.item, rule)
    size = rule.length
    good_list = st.lists(item, min_size=size or 1, max_size=size or 6)
    bad_item = bad_scalar(rule.item, rule, nullable=False)

    def with_bad_item(parts):  # (good items, a bad item, where to insert it)
        items, bad, where = parts
        where %= len(items) + 1
        return [*items[:where], bad, *items[where:]]

    one_bad = st.tuples(
        st.lists(item, min_size=(size - 1) if size else 0, max_size=(size - 1) if size else 5),
        bad_item,
        st.integers(0, 10),
    ).map(with_bad_item)
    found = [
        good_list.map(tuple),  # a tuple is no list (papermill would inject its repr as text)
        FINITE,
        st.integers(),
        TEXT,
        NUMERIC_TEXT,
        st.booleans(),
        DICTS,
    ]
    if rule.item != "any":  # one item of the wrong type or out of range
        found.append(one_bad)
    if not rule.nullable:
        found.append(st.none())
    if rule.non_empty or size:
        found.append(st.just([]))
    if size:
        found.append(st.lists(item, min_size=size + 1, max_size=size + 3))
        if size > 1:
            found.append(st.lists(item, min_size=1, max_size=size - 1))
    return st.one_of(*found)


# -- fuzzing every parameter of every study ---------------------------------------------------


@pytest.mark.parametrize("name", STUDIES)
@FUZZ
@given(data=st.data())
def test_good_values_pass_and_bad_ones_are_refused_naming_study_parameter_and_value(name, data):
    """Each case: a good value of one parameter (accepted), and a bad value of one parameter
    or a name that is no parameter (refused, naming the study, the parameter and the value)."""
    known = list(rules(name))
    parameter = data.draw(st.sampled_from(known), label="good parameter")
    value = data.draw(good_value(rules(name)[parameter]), label="good value")
    resolved = studies.resolve_parameters(name, overrides={parameter: value}, root=ROOT)
    assert resolved[parameter] is value

    unknown = st.text(min_size=1, max_size=12).filter(lambda p: p not in known)
    parameter = data.draw(st.one_of(st.sampled_from(known), unknown), label="bad parameter")
    rule = rules(name).get(parameter)
    value = data.draw(bad_value(rule) if rule else st.integers(), label="bad value")
    with pytest.raises(ValueError) as error:
        studies.resolve_parameters(name, overrides={parameter: value}, root=ROOT)
    message = str(error.value)
    assert f"study {name!r}" in message
    if rule is None:
        assert f"unknown parameter {parameter!r}" in message
    else:
        assert f"parameter {parameter} = {value!r} is not allowed: want " in message
        assert rule.describe() in message


# -- the rules of the real studies ------------------------------------------------------------


@pytest.mark.parametrize("name", STUDIES)
def test_every_parameter_has_a_type_and_a_rule(name):
    unchecked = [p for p, rule in rules(name).items() if "any" in (rule.kind, rule.item)]
    assert not unchecked, f"{name}: parameters whose default is of no checked type: {unchecked}"
    missing = [p for p, rule in rules(name).items() if rule.kind != "bool" and rule.text is None]
    assert not missing, f"notebooks/presets.yaml: {name}.allowed has no rule for {missing}"


@pytest.mark.parametrize("name", STUDIES)
def test_every_preset_passes_its_rules(name):
    presets = studies.study_presets(name, root=ROOT)
    assert "allowed" not in studies.preset_names(name, root=ROOT)
    for preset in studies.preset_names(name, root=ROOT):
        values = {} if preset == studies.BOOK else presets[preset]
        studies.check_parameters(name, values, root=ROOT)
        studies.resolve_parameters(name, preset, root=ROOT)
    studies.check_parameters(name, studies.notebook_parameters(name, root=ROOT), root=ROOT)


def test_choices_are_registered_names():
    from rnnbook.models.parts import PARTS
    from rnnbook.training.many import METHODS

    registries = {"activation": set(PARTS["activation"]), "method": set(METHODS)}
    for name in STUDIES:
        for parameter, rule in rules(name).items():
            if parameter in registries:
                assert set(rule.choices) <= registries[parameter], (name, parameter)


# -- the rule format, on a toy study ----------------------------------------------------------

TOY_PARAMETERS = """\
count = 3
rate = 0.5
flag = True
mode = "fast"
label = "yes"
levels = [0.1, 0.2]
sizes = [1, 2]
pair = [0.0, 1.0]
clip = 1.0
"""
TOY_ALLOWED = {
    "count": '">= 1"',
    "rate": '"(0, 1]"',
    "mode": "[fast, slow]",
    "label": "any",
    "levels": '"[0, 1), non-empty"',
    "sizes": '"< 10"',
    "pair": '">= 0, length 2"',
    "clip": '"> 0, or null"',
}


def toy_presets(smoke_count: int = 1, **rules: str) -> str:
    """presets.yaml of the toy study: a smoke preset and its rules, ``rules`` replacing them."""
    allowed = "".join(f"    {name}: {rule}\n" for name, rule in (TOY_ALLOWED | rules).items())
    return f"toy:\n  smoke:\n    count: {smoke_count}\n  allowed:\n{allowed}"


TOY_RULES = toy_presets()


def toy_root(tmp_path: Path, rules_text: str = TOY_RULES) -> Path:
    cell = nbformat.v4.new_code_cell(TOY_PARAMETERS, metadata={"tags": ["parameters"]})
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "notebooks" / "toy.ipynb")
    (tmp_path / "notebooks" / "presets.yaml").write_text(rules_text)
    return tmp_path


@pytest.mark.parametrize(
    "parameter, good, bad",
    [
        ("count", [1, 2, 10**30], [0, -1, 1.0, 16.5, True, "3", None, [3]]),
        ("rate", [1, 1.0, 0.5, 1e-300], [0, 0.0, -0.0, 1.0000001, math.nan, math.inf, "0.5"]),
        ("flag", [True, False], ["no", "true", 1, 0, None]),
        ("mode", ["fast", "slow"], ["Fast", "no", "", 1, None, ["fast"]]),
        ("label", ["", "no", "anything"], [1, None, True, ["yes"]]),
        ("levels", [[0], [0.0, 0.5, 0.99]], [[], [1.0], [-0.1], [math.nan], 0.5, (0.5,), [True]]),
        ("sizes", [[], [9, -3]], [[10], [1.5], [1.0], 3, [None]]),
        ("pair", [[0, 0], [1.0, 2.5]], [[1.0], [1.0, 2.0, 3.0], [-1.0, 2.0], [], 1.0]),
        ("clip", [None, 2, 0.1], [0, -1.0, math.inf, "null"]),
    ],
)
def test_rule_forms(tmp_path, parameter, good, bad):
    root = toy_root(tmp_path)
    for value in good:
        studies.check_parameters("toy", {parameter: value}, root=root)
    for value in bad:
        with pytest.raises(ValueError, match="is not allowed") as error:
            studies.check_parameters("toy", {parameter: value}, root=root)
        assert f"study 'toy': parameter {parameter} = {value!r} " in str(error.value)


def test_messages_say_what_is_allowed_and_where_the_value_came_from(tmp_path):
    root = toy_root(tmp_path)
    expected = {
        "count": "want an integer >= 1 (int), got float",
        "rate": "want a number in (0, 1] (float), got a non-finite number",
        "flag": "want true or false (bool), got str",
        "mode": "want one of 'fast', 'slow' (str)",
        "levels": "want a list of numbers in [0, 1), non-empty (list of float), got item 1 = 1.0",
        "pair": "want a list of 2 numbers >= 0 (list of float), got 1 item",
        "clip": "want a number > 0 or None (float)",
    }
    values = {"count": 2.0, "rate": math.nan, "flag": "no", "mode": "x", "levels": [0.5, 1.0]}
    values |= {"pair": [3.0], "clip": -1}
    with pytest.raises(ValueError) as error:
        studies.check_parameters("toy", values, root=root)
    for parameter, want in expected.items():
        assert want in str(error.value), parameter
    (root / "notebooks" / "presets.yaml").write_text(toy_presets(smoke_count=0))
    with pytest.raises(ValueError, match=r"count = 0 \(from preset 'smoke' in presets.yaml\)"):
        studies.smoke_notebook("toy", tmp_path / "smoke", root=root)


def test_rules_are_read_again_when_presets_yaml_changes(tmp_path):
    root = toy_root(tmp_path)
    with pytest.raises(ValueError):
        studies.resolve_parameters("toy", overrides={"rate": 2.0}, root=root)
    toy_root(tmp_path, toy_presets(rate='"(0, 2]"'))
    assert studies.resolve_parameters("toy", overrides={"rate": 2.0}, root=root)["rate"] == 2.0


@pytest.mark.parametrize(
    "parameter, rule, why",
    [
        ("count", '">= one"', "is not understood"),
        ("count", '"between 1 and 2"', "is not understood"),
        ("count", '"[2, 1]"', "the interval is empty"),
        ("count", '"(1, 1]"', "the interval is empty"),
        ("count", '">= 1, non-empty"', "'non-empty' is for a list"),
        ("count", '">= 1, positive"', "unknown flag 'positive'"),
        ("count", "3", "is not understood"),
        ("mode", '">= 1"', "a range needs numbers"),
        ("flag", '"> 0"', "a range needs numbers"),
        ("rate", "[fast, slow]", "the choice 'fast' is not a number"),
        ("mode", "[]", "no choices"),
        ("nope", '">= 1"', "'nope', not a parameter of the notebook"),
    ],
)
def test_a_bad_rule_names_the_study_and_the_parameter(tmp_path, parameter, rule, why):
    root = toy_root(tmp_path, toy_presets(**{parameter: rule}))
    with pytest.raises(ValueError, match=why) as error:
        studies.resolve_parameters("toy", root=root)
    message = str(error.value)
    assert "notebooks/presets.yaml: study 'toy'" in message and repr(parameter)[1:-1] in message


# -- the command line -------------------------------------------------------------------------


class Ran(Exception):
    """Raised by the fake run_study: the command line got as far as running."""


@pytest.fixture
def no_run(monkeypatch):
    def fake_run_study(name, **kwargs):
        raise Ran(kwargs.get("parameters"))

    monkeypatch.setattr(studies, "run_study", fake_run_study)


@pytest.mark.parametrize(
    "study, parameter, text, shown",
    [
        ("perceptual_decision", "tau", "abc", "'abc'"),
        ("perceptual_decision", "n_rec", "16.5", "16.5"),
        ("perceptual_decision", "coherences", "0.5", "0.5"),
        ("perceptual_decision", "coherences", "[0.5, 2]", "[0.5, 2]"),
        ("perceptual_decision", "lr", "inf", "'inf'"),
        ("perceptual_decision", "lr", ".inf", "inf"),
        ("perceptual_decision", "lr", ".nan", "nan"),
        ("perceptual_decision", "n_steps", "-3", "-3"),
        ("perceptual_decision", "seed", "no", "'no'"),
        ("perceptual_decision", "n_rec", "0x10", "'0x10'"),
        ("perceptual_decision", "coherences", "[0.1, 0.2", "'[0.1, 0.2'"),
        ("integration_memory", "method", "foo", "'foo'"),
        ("integration_memory", "method", "no", "'no'"),
        ("integration_memory", "onset_ms", "[1000.0]", "[1000.0]"),
        ("psychrnn_comparison", "seed", "4294967296", "4294967296"),
    ],
)
def test_cli_refuses_a_bad_value_before_running(no_run, capsys, study, parameter, text, shown):
    assert cli.main(["run", study, "-p", parameter, text]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnbook: error: ") and err.count("\n") == 1
    assert f"study {study!r}: parameter {parameter} = {shown} is not allowed: want " in err


def test_cli_takes_true_and_false_for_a_bool_and_any_text_for_a_str(
    tmp_path, monkeypatch, no_run, capsys
):
    monkeypatch.setenv("RNNBOOK_ROOT", str(toy_root(tmp_path)))
    assert cli.main(["run", "toy", "-p", "flag", "no"]) == 2
    assert (
        "parameter flag = 'no' is not allowed: want true or false (bool)" in capsys.readouterr().err
    )
    with pytest.raises(Ran) as ran:
        cli.main(["run", "toy", "-p", "flag", "false", "-p", "label", "no", "-p", "mode", "slow"])
    assert ran.value.args[0] == {"flag": False, "label": "no", "mode": "slow"}
    with pytest.raises(Ran) as ran:
        cli.main(["run", "toy", "-p", "label", "1", "-p", "clip", "null", "-p", "rate", "1e-3"])
    assert ran.value.args[0] == {"label": "1", "clip": None, "rate": 1e-3}


@pytest.mark.parametrize(
    "text, kind, value",
    [
        ("1e-3", None, 1e-3),
        ("3", None, 3),
        ("true", None, True),
        ("False", None, False),
        ("no", None, "no"),
        ("yes", None, "yes"),
        ("off", None, "off"),
        ("null", None, None),
        (".inf", None, math.inf),
        ("-.inf", None, -math.inf),
        ("0x10", None, "0x10"),
        ("1_000", None, "1_000"),
        ("1:30", None, "1:30"),
        ("[1, 2", None, "[1, 2"),
        ("[1, 2.5]", None, [1, 2.5]),
        ("no", str, "no"),
        ("1", str, "1"),
        ("'tanh'", str, "tanh"),
        ("null", str, "null"),
        ("3", int, 3),
    ],
)
def test_parse_value(text, kind, value):
    parsed = cli.parse_value(text, kind)
    assert parsed == value and type(parsed) is type(value)
