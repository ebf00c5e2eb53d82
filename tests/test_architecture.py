"""The package's layering: no private names across modules, analysis and training apart."""

import ast
from pathlib import Path

import pytest

import rnnbook

PACKAGE = Path(rnnbook.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """(imported module, imported name or None) for every import in ``path``."""
    package = (
        _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    )
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + [base]
                )
            for alias in node.names:
                yield base.strip("."), alias.name


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_private_name_of_another(path):
    own = _module_name(path)
    for module, name in _imports(path):
        if not module.startswith("rnnbook") or module == own:
            continue
        assert not any(part.startswith("_") for part in module.split(".")), (own, module)
        assert name is None or not name.startswith("_"), f"{own} imports {module}.{name}"


@pytest.mark.parametrize(
    "layer, forbidden",
    [("rnnbook.analysis", "rnnbook.training"), ("rnnbook.training", "rnnbook.analysis")],
)
def test_analysis_and_training_never_import_each_other(layer, forbidden):
    for path in MODULES:
        if _module_name(path).startswith(layer):
            for module, _ in _imports(path):
                assert not module.startswith(forbidden), f"{_module_name(path)} imports {module}"


def test_the_checks_see_the_imports():  # guards the two tests above against a broken parser
    found = dict(_imports(PACKAGE / "training" / "trainer.py"))
    assert "rnnbook.training.step" in found and "rnnbook.runtime" in found
