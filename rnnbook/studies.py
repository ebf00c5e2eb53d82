"""Studies: parameterised notebooks executed with papermill, and their presets (the book that
renders them is built by ``rnnbook.book``).

A study is ``notebooks/<name>.ipynb``. Its first code cell, tagged ``parameters``, holds plain
literals: the **book** setting. ``notebooks/presets.yaml`` holds, per study, the **smoke**
overrides (seconds; the tests), the **paper** overrides (the source study's own sizes) and
``smoke_checks`` (record name -> ``[low, high]``, checked after the smoke run)::

    perceptual_decision:
      smoke: {n_steps: 40}
      paper: {n_steps: 20000}
      smoke_checks: {baseline_accuracy_strong: [0.5, 1.0]}

Per study, ``allowed`` (the constant ``RULES``) says what each parameter may be. The **type** of
a parameter is its notebook default's: an int takes integers (not floats, not bools), a float
any finite real number (integers too), a bool only True or False, a str a string, a list a
list whose items are typed by the default's items (all ints: integers; numbers: numbers). The
**rule** under ``allowed`` adds the range; every numeric, list and str parameter has one (a test
enforces it). The forms, on parameters of several studies::

    some_study:
      allowed:
        n_rec: ">= 2"                    # >= a, > a, <= a, < a, [a, b], (a, b], [a, b), (a, b)
        lr: "> 0"                        # always finite: NaN and +-inf never pass
        coherences: "[0, 1], non-empty"  # a list: the range applies to each item
        onset_ms: ">= 0, length 2"       # a list of exactly 2 items
        grad_clip: "> 0, or null"        # None allowed too
        spontaneous_h0: any              # any value of the parameter's type
        activation: [tanh, relu]         # a YAML list: the choices (or null among them)

A rule is a string (a range or ``any``, then flags after commas: ``non-empty``, ``length N``,
``or null``) or a list of choices (for a list parameter: the choices of each item). A bool
parameter needs no rule. Cross-parameter constraints (``dt <= tau``, ``k in ks``) are left to
the configs inside the notebook.

Every function takes ``root``, the repository root; by default it is found with ``find_root``.
Parameter names, types and ranges (``check_parameters``) are checked before anything runs:
ValueError naming the study, the parameter, its value and what is allowed.
"""

from __future__ import annotations

import ast
import copy
import functools
import hashlib
import json
import os
import pprint
from collections.abc import Mapping
from pathlib import Path

import yaml

from rnnbook.atomic import remove_stale, temporary_name, write_replacing
from rnnbook.parameter_rules import Rule, kind_of, parse_rule
from rnnbook.provenance import with_footer

BOOK = "book"  # the preset that means "the notebook's own defaults"
CHECKS = "smoke_checks"  # the presets.yaml key holding the smoke run's record bounds
RULES = "allowed"  # the presets.yaml key holding each parameter's allowed values
NOT_PRESETS = (CHECKS, RULES)  # the keys of a study's presets.yaml entry that are no presets
KERNEL = "python3"
PACKAGE_DIR = Path(__file__).resolve().parent


Root = str | Path | None  # a repository root, or None to find it (``find_root``)
Overrides = Mapping[str, object] | None  # parameter name -> value


class StudyError(RuntimeError):
    """A study notebook failed; the message holds the notebook's own exception line."""


# -- where things are ------------------------------------------------------------------------


def find_root(start: str | Path | None = None) -> Path:
    """The repository root: ``$RNNBOOK_ROOT``, else the first directory from ``start`` (default:
    the working directory) upwards that holds ``notebooks/presets.yaml``, else the checkout this
    package was imported from."""
    if os.environ.get("RNNBOOK_ROOT"):
        return Path(os.environ["RNNBOOK_ROOT"]).resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents, PACKAGE_DIR.parent):
        if (folder / "notebooks" / "presets.yaml").is_file():
            return folder
    raise FileNotFoundError(
        f"no notebooks/presets.yaml in {here} or its parents: run from the rnnbook repository "
        "or set RNNBOOK_ROOT"
    )


def _root(root: str | Path | None) -> Path:
    return find_root() if root is None else Path(root).resolve()


def list_studies(*, root: str | Path | None = None) -> list[str]:
    """Names of the study notebooks in ``notebooks/``, sorted."""
    return sorted(p.stem for p in (_root(root) / "notebooks").glob("[!._]*.ipynb"))


def study_path(name: str, *, root: str | Path | None = None) -> Path:
    """``notebooks/<name>.ipynb``; ValueError naming the available studies if it is missing."""
    path = _root(root) / "notebooks" / f"{name}.ipynb"
    if not path.is_file():
        available = ", ".join(list_studies(root=root)) or "none"
        raise ValueError(f"unknown study {name!r}: available studies are {available}")
    return path


def load_presets(*, root: str | Path | None = None) -> dict:
    """The whole of ``notebooks/presets.yaml`` (an empty dict if the file is missing)."""
    return copy.deepcopy(_parse_yaml(_presets_text(root)))  # a copy: the parse is cached


def _presets_text(root: str | Path | None) -> str:
    path = _root(root) / "notebooks" / "presets.yaml"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


@functools.lru_cache(maxsize=16)
def _parse_yaml(text: str) -> dict:
    return yaml.safe_load(text) or {}


def study_presets(name: str, *, root: str | Path | None = None) -> dict:
    """The presets.yaml entry of one study (``{}`` if it has none)."""
    return copy.deepcopy(_parse_yaml(_presets_text(root)).get(name) or {})


# -- parameters ------------------------------------------------------------------------------


def notebook_parameters(name: str, *, root: str | Path | None = None) -> dict:
    """The defaults in the study's ``parameters`` cell, name -> value, in cell order."""
    text = study_path(name, root=root).read_text(encoding="utf-8")
    return copy.deepcopy(_notebook_defaults(name, text))  # a copy: the parse is cached


@functools.lru_cache(maxsize=64)
def _notebook_defaults(name: str, text: str) -> dict:
    for cell in json.loads(text)["cells"]:
        if cell["cell_type"] == "code" and "parameters" in cell["metadata"].get("tags", []):
            return _literal_assignments(name, "".join(cell["source"]))
    raise ValueError(f"study {name!r} has no code cell tagged 'parameters'")


def _literal_assignments(name: str, source: str) -> dict:
    values = {}
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        try:
            values[target.id] = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError):
            segment = ast.get_source_segment(source, value)
            raise ValueError(
                f"study {name!r}: parameter {target.id!r} must be a plain literal, got {segment}"
            ) from None
    return values


def preset_names(name: str, *, root: str | Path | None = None) -> list[str]:
    """The presets a study accepts: ``book`` and those in presets.yaml."""
    return [BOOK, *(key for key in study_presets(name, root=root) if key not in NOT_PRESETS)]


def parameter_rules(name: str, *, root: str | Path | None = None) -> dict[str, Rule]:
    """Parameter name -> Rule for every parameter of the study, in cell order: the type of its
    notebook default and its ``allowed`` rule in presets.yaml (``Rule.text`` None if it has
    none). ValueError naming the study and the parameter for a rule that is not understood or
    names no parameter."""
    notebook_text = study_path(name, root=root).read_text(encoding="utf-8")
    return dict(_study_rules(name, notebook_text, _presets_text(root)))


@functools.lru_cache(maxsize=64)
def _study_rules(name: str, notebook_text: str, presets_text: str) -> dict[str, Rule]:
    defaults = _notebook_defaults(name, notebook_text)
    specs = (_parse_yaml(presets_text).get(name) or {}).get(RULES) or {}
    if not isinstance(specs, dict):
        raise ValueError(
            f"notebooks/presets.yaml: study {name!r}: {RULES} must map parameter names to rules"
        )
    unknown = [key for key in specs if key not in defaults]
    if unknown:
        raise ValueError(
            f"notebooks/presets.yaml: study {name!r}: {RULES} has a rule for "
            f"{', '.join(map(repr, unknown))}, not a parameter of the notebook: its parameters "
            f"are {', '.join(defaults)}"
        )
    return {
        key: parse_rule(name, key, default, specs[key])
        if key in specs
        else Rule(*kind_of(default), nullable=default is None)
        for key, default in defaults.items()
    }


def check_parameters(
    name: str,
    values: Mapping[str, object] | None,
    *,
    source: str | None = None,
    root: str | Path | None = None,
) -> None:
    """ValueError unless every name in ``values`` is a parameter of the study and its value is
    allowed (``parameter_rules``). The message names the study, the parameter, the value and
    what is allowed, with `` (from SOURCE)`` after the value if ``source`` is given; every
    problem at once, joined by "; "."""
    _check(name, values or {}, parameter_rules(name, root=root), source)


def _check(name: str, values: Mapping, rules: dict[str, Rule], source: str | None) -> None:
    where = f" (from {source})" if source else ""
    unknown = [key for key in values if key not in rules]
    if unknown:
        raise ValueError(
            f"unknown parameter {', '.join(map(repr, unknown))}{where} for study {name!r}: "
            f"allowed are {', '.join(rules)}"
        )
    problems = []
    for key, value in values.items():
        wrong = rules[key].problem(value)
        if wrong is not None:
            problems.append(
                f"parameter {key} = {value!r}{where} is not allowed: "
                f"want {rules[key].describe()}{wrong}"
            )
    if problems:
        raise ValueError(f"study {name!r}: " + "; ".join(problems))


def chosen_parameters(
    name: str, preset: str | None = None, overrides: Overrides = None, *, root: Root = None
) -> dict:
    """The parameters that differ from the notebook: the preset's, updated with ``overrides``.

    ValueError for an unknown preset, a name that is not a parameter of the notebook, or a
    value its rule does not allow (``check_parameters``; the notebook's own defaults too).
    """
    defaults = notebook_parameters(name, root=root)
    presets = preset_names(name, root=root)
    if preset not in (None, *presets):
        raise ValueError(
            f"unknown preset {preset!r} for study {name!r}: allowed are {', '.join(presets)}"
        )
    from_preset = {} if preset in (None, BOOK) else study_presets(name, root=root)[preset] or {}
    if not isinstance(from_preset, dict):
        raise ValueError(f"notebooks/presets.yaml: {name}.{preset} must map names to values")
    overrides = dict(overrides or {})
    rules = parameter_rules(name, root=root)
    _check(name, from_preset, rules, f"preset {preset!r} in presets.yaml")
    _check(name, overrides, rules, None)
    unchanged = {k: v for k, v in defaults.items() if k not in from_preset and k not in overrides}
    _check(name, unchanged, rules, "the notebook's parameters cell")
    return {**from_preset, **overrides}


def resolve_parameters(
    name: str, preset: str | None = None, overrides: Overrides = None, *, root: Root = None
) -> dict:
    """All parameters of a run: the notebook defaults, then the preset, then ``overrides``.

    ``preset`` None or ``"book"`` means the defaults. ValueError (before anything runs) for an
    unknown preset, naming the allowed ones, an unknown parameter, naming the allowed ones, or
    a value that is not allowed, naming the study, the parameter, the value and what is allowed.
    """
    chosen = chosen_parameters(name, preset, overrides, root=root)
    return {**notebook_parameters(name, root=root), **chosen}


# -- running ---------------------------------------------------------------------------------


def default_output(name: str, preset: str | None = None, *, root: str | Path | None = None):
    """``_build/runs/<name>[-<preset>].ipynb`` under the root."""
    suffix = f"-{preset}" if preset not in (None, BOOK) else ""
    return _root(root) / "_build" / "runs" / f"{name}{suffix}.ipynb"


def run_study(
    name: str,
    *,
    preset: str | None = None,
    parameters: Mapping[str, object] | None = None,
    output: str | Path | None = None,
    cwd: str | Path | None = None,
    root: str | Path | None = None,
) -> Path:
    """Execute a study with papermill and return the path of the executed notebook.

    The notebook, with the page's footer cells appended (its records and what the execution
    cost: ``rnnbook.provenance.with_footer``), runs in a fresh ``python3`` kernel, in ``cwd``
    (default: the root), and is
    written to ``output`` (default: ``default_output``) only once it has finished: it executes
    into a temporary file that then replaces ``output``. If a cell raises, the executed notebook
    is kept as ``<output>.failed.ipynb`` and StudyError carries the cell's exception line.
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.iorw import load_notebook_node

    root = _root(root)
    chosen = chosen_parameters(name, preset, parameters, root=root)
    output = Path(output) if output else default_output(name, preset, root=root)
    output.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(output.parent)  # what killed runs left
    partial = output.with_name(temporary_name(output.stem, ".ipynb"))
    failed = output.with_suffix(".failed.ipynb")
    try:
        papermill.execute_notebook(
            with_footer(load_notebook_node(str(study_path(name, root=root))), name, preset),
            str(partial),
            parameters=chosen,
            kernel_name=KERNEL,
            progress_bar=False,
            log_output=False,
            cwd=str(cwd or root),
            # silence the kernel process's own log (not the notebook's outputs): ipykernel warns
            # on every start about local TCP and logs the interrupt jupyter_client sends at
            # shutdown; a kernel that really fails still raises (DeadKernelError, timeouts)
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except papermill.PapermillExecutionError as error:
        os.replace(partial, failed)
        raise StudyError(
            f"study {name!r} failed in cell [{error.exec_count}]: {error.ename}: {error.evalue} "
            f"(executed notebook: {failed})"
        ) from None
    except (CellTimeoutError, DeadKernelError) as error:
        raise StudyError(f"study {name!r} failed: {type(error).__name__}: {error}") from None
    else:
        os.replace(partial, output)
        failed.unlink(missing_ok=True)
    finally:
        partial.unlink(missing_ok=True)
    return output


def smoke_notebook(name: str, dest_dir: str | Path, *, root: str | Path | None = None) -> Path:
    """Write ``dest_dir/<name>.ipynb``: the study with its smoke parameters injected (papermill,
    not executed), the page's footer cells, and, last, a cell that checks the ``smoke_checks``
    bounds of its records."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    chosen = chosen_parameters(name, "smoke", root=root)
    checks = study_presets(name, root=root).get(CHECKS) or {}
    notebook = load_notebook_node(str(study_path(name, root=root)))
    notebook = parameterize_notebook(notebook, chosen, kernel_name=KERNEL, language="python")
    with_footer(notebook, name, "smoke")
    source = f"from rnnbook.records import check_records\n\ncheck_records({pprint.pformat(checks)})"
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [CHECKS]})
    notebook.cells.append(cell)
    return write_replacing(Path(dest_dir) / f"{name}.ipynb", nbformat.writes(notebook))


# -- what an execution depends on ----------------------------------------------------------


def package_digest() -> str:
    """SHA-256 of the package's source (``rnnbook/**/*.py`` and its style files)."""
    digest = hashlib.sha256()
    files = [p for p in PACKAGE_DIR.rglob("*") if p.suffix in (".py", ".mplstyle")]
    for path in sorted(files):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def study_digest(name: str, *, root: str | Path | None = None) -> str:
    """SHA-256 of what a book execution depends on: the source notebook, its presets entry and
    the package source."""
    digest = hashlib.sha256(study_path(name, root=root).read_bytes() + b"\0")
    entry = json.dumps(study_presets(name, root=root), sort_keys=True, default=str)
    digest.update(entry.encode() + b"\0" + package_digest().encode())
    return digest.hexdigest()
