"""What the code imports is declared, at safe versions, and pinned with hashes in the lock file."""

from __future__ import annotations

import ast
import re
import sys
import tomllib

from packaging.requirements import Requirement
from packaging.version import Version

from helpers import ROOT

# Import name -> distribution name, where they differ.
DISTRIBUTION = {"jinja2": "jinja2", "yaml": "pyyaml"}
# The lowest versions without known advisories (see pyproject.toml).
SAFE = {"aiohttp": "3.14.3", "jinja2": "3.1.6"}


def declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    found += [Requirement(r) for r in project["optional-dependencies"]["postgres"]]
    return {r.name.lower(): r for r in found}


def imported() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in {"bot", "__future__"}}


def locked() -> dict[str, tuple[str, list[str]]]:
    text = (ROOT / "requirements.lock").read_text()
    pins: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):
        match = re.match(r"([a-z0-9._-]+)==([^\s\\]+)", block)
        if match:
            pins[match.group(1).lower()] = (match.group(2), re.findall(r"--hash=sha256:[0-9a-f]{64}", block))
    return pins


def test_every_import_is_a_declared_dependency() -> None:
    deps = declared()
    missing = {n for n in imported() if DISTRIBUTION.get(n, n).lower() not in deps}
    assert missing == set(), f"imported but not declared in pyproject.toml: {missing}"


def test_lower_bounds_exclude_versions_with_known_advisories() -> None:
    deps = declared()
    for name, safe in SAFE.items():
        lows = [Version(s.version) for s in deps[name].specifier if s.operator == ">="]
        assert lows and min(lows) >= Version(safe), (name, str(deps[name].specifier))


def test_the_lock_pins_every_dependency_with_hashes_within_the_declared_bounds() -> None:
    pins = locked()
    assert "file://" not in (ROOT / "requirements.lock").read_text()  # no local index leaks in
    for name, requirement in declared().items():
        assert name in pins, f"{name} is not in requirements.lock: refresh it (README, Dependencies)"
        version, _hashes = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (name, version)
    assert all(hashes for _version, hashes in pins.values())
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile
