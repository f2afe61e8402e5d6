"""The lock (requirements/*.txt, written by `make lock`) is in step with pyproject.toml, and every pin is hashed.

An engineer who adds or narrows a dependency in pyproject.toml and forgets `make lock` sees it here, before
an image is built from a lock that lacks it. Read from the files alone: no network.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCKS = {"runtime": ROOT / "requirements" / "runtime.txt", "dev": ROOT / "requirements" / "dev.txt",
         "build": ROOT / "requirements" / "build.txt"}
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def parse_lock(path: Path) -> dict[str, list[tuple[Version, list[str]]]]:
    """{canonical name: [(version, hashes)]}: a name may be pinned twice under exclusive markers."""
    pins: dict[str, list[tuple[Version, list[str]]]] = {}
    current: list[str] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            current = None
            continue
        if line.startswith("--hash="):
            assert current is not None, f"{path.name}: a hash without a pin: {raw!r}"
            current.append(line.removeprefix("--hash=").rstrip(" \\"))
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: not an exact pin: {raw!r}"
        current = []
        pins.setdefault(canonicalize_name(match["name"]), []).append((Version(match["version"]), current))
    return pins


@pytest.fixture(scope="module", params=sorted(LOCKS))
def lock(request):
    return request.param, parse_lock(LOCKS[request.param])


def declared(*groups: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    requirements = list(project["dependencies"]) if "runtime" in groups else []
    for extra in groups:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    return [Requirement(r) for r in requirements]


def assert_in_step(pins: dict, requirements: list[Requirement], lock_name: str) -> None:
    missing, outside = [], []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name not in pins:
            missing.append(requirement.name)
            continue
        for version, _ in pins[name]:
            if not requirement.specifier.contains(version, prereleases=True):
                outside.append(f"{requirement} (locked {version})")
    assert not missing, f"not in requirements/{lock_name}.txt — run `make lock`: {missing}"
    assert not outside, f"requirements/{lock_name}.txt pins outside pyproject's range — run `make lock`: {outside}"


def test_every_pin_is_exact_and_hashed(lock):
    name, pins = lock
    assert pins, f"requirements/{name}.txt is empty"
    for package, entries in pins.items():
        for version, hashes in entries:
            assert hashes, f"requirements/{name}.txt: {package}=={version} has no hash"
            assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (package, hashes)


def test_the_runtime_lock_has_every_runtime_dependency_in_range():
    assert_in_step(parse_lock(LOCKS["runtime"]), declared("runtime"), "runtime")


def test_the_dev_lock_has_every_dependency_and_the_runtime_pins():
    dev, runtime = parse_lock(LOCKS["dev"]), parse_lock(LOCKS["runtime"])
    assert_in_step(dev, declared("runtime", "test", "dev"), "dev")
    # The suite runs on exactly what the image installs.
    differs = {n: (runtime[n], dev.get(n)) for n in runtime
               if [v for v, _ in runtime[n]] != [v for v, _ in dev.get(n, [])]}
    assert not differs, f"requirements/dev.txt and runtime.txt disagree — run `make lock`: {sorted(differs)}"


def test_the_build_lock_builds_the_project_wheel():
    assert_in_step(parse_lock(LOCKS["build"]), [Requirement(r) for r in PYPROJECT["build-system"]["requires"]],
                   "build")


def test_development_tools_stay_out_of_the_runtime_lock():
    runtime = parse_lock(LOCKS["runtime"])
    tools = [r.name for r in declared("dev")] + ["pytest", "ruff"]
    assert "honcho" in tools
    assert not [t for t in tools if canonicalize_name(t) in runtime], "development tools in the image's lock"


def test_every_declared_dependency_has_an_upper_bound():
    unbounded = [str(r) for r in declared("runtime", "test", "dev")
                 if not any(s.operator in {"<", "<=", "==", "~=", "==="} for s in r.specifier)]
    assert not unbounded, f"give these an upper bound in pyproject.toml: {unbounded}"
