"""The dependency pins agree between pyproject.toml, the Makefile and environment.yml."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PINNED = ("dask[distributed]", "dask-jobqueue", "hypothesis", "torch")


def _pins(requirements) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        match = re.fullmatch(r'"?([A-Za-z0-9_.\-\[\]]+)==([^"\s]+)"?', requirement.strip())
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def test_pyproject_makefile_and_environment_pin_the_same_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    from_pyproject = _pins([*project["dependencies"], *extras])
    makefile = (ROOT / "Makefile").read_text()
    from_makefile = _pins(re.findall(r'"[^"\s]+==[^"\s]+"|\S+==\S+', makefile))
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    from_environment = _pins(pip)
    for name in PINNED:
        versions = {
            "pyproject.toml": from_pyproject.get(name),
            "Makefile": from_makefile.get(name),
            "environment.yml": from_environment.get(name),
        }
        assert len(set(versions.values())) == 1 and None not in versions.values(), (
            name,
            versions,
        )


def test_the_makefile_installs_every_extra_the_environment_installs():
    makefile = (ROOT / "Makefile").read_text()
    environment = (ROOT / "environment.yml").read_text()
    extras = re.search(r"-e \"?\.\[([^\]]+)\]", makefile).group(1)
    assert f"-e .[{extras}]" in environment
    assert "dask" in extras.split(",") and "dev" in extras.split(",")
