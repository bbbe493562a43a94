"""environment.yml (conda users) names exactly the packages of pyproject.toml, with the same ranges."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _requirements(lines) -> dict:
    out = {}
    for line in lines:
        name = re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower().replace("_", "-")
        out[name] = line.replace(" ", "")
    return out


def pyproject_requirements() -> dict:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return _requirements(lines)


def environment_requirements() -> dict:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return _requirements(pip)


def test_environment_yml_names_the_same_packages_with_the_same_ranges():
    ours, theirs = pyproject_requirements(), environment_requirements()
    assert sorted(set(ours) - set(theirs)) == [], "in pyproject.toml but not environment.yml"
    assert sorted(set(theirs) - set(ours)) == [], "in environment.yml but not pyproject.toml"
    assert {k: v for k, v in ours.items() if theirs[k] != v} == {}, "ranges differ"


def test_python_version_agrees():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    low = re.search(r">=\s*([\d.]+)", requires).group(1)
    assert low in python, f"environment.yml pins {python}, pyproject requires {requires}"


def test_ranges_not_exact_pins():
    for name, line in pyproject_requirements().items():
        assert "==" not in line, f"{name} is pinned exactly ({line}); use a range"
