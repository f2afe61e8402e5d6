"""The image's install path works without a network, and deploy/Dockerfile is built the way it claims.

This machine has a Docker client but no engine, so the image itself is not built here. Instead the test
takes the Dockerfile's steps by hand: a wheelhouse from the lock (the connected machine's step), then, in a
network namespace with no network at all (`unshare --net`, as `docker build --network=none`), the project's
wheel from the sources the builder stage copies, and a fresh virtual environment installed from the
wheelhouse with --no-index --require-hashes. The desk must then start from that environment alone.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

# The deployment stack (nginx, an offline install, pg_dump/pg_restore, an S3 server): `make test`, not `make check`.
pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"
BUILD_LOCK = ROOT / "requirements" / "build.txt"


def stages() -> list[dict]:
    """The Dockerfile's stages: [{"name", "base", "steps": [(INSTRUCTION, argument)]}], in order."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in DOCKERFILE.read_text().splitlines()
                                          if not line.lstrip().startswith("#")))
    result: list[dict] = [{"name": "(global)", "base": None, "steps": []}]
    for line in text.splitlines():
        if not line.strip():
            continue
        instruction, _, argument = line.strip().partition(" ")
        instruction, argument = instruction.upper(), " ".join(argument.split())
        if instruction == "FROM":
            match = re.fullmatch(r"(\S+)(?: AS (\S+))?", argument, re.I)
            result.append({"name": match[2], "base": match[1], "steps": []})
        else:
            result[-1]["steps"].append((instruction, argument))
    return result


def stage(name: str) -> dict:
    return next(s for s in stages() if s["name"] == name)


def copies(name: str) -> list[tuple[list[str], str]]:
    """The build-context COPY steps of a stage: [(sources, destination)]."""
    found = []
    for instruction, argument in stage(name)["steps"]:
        if instruction == "COPY" and "--from=" not in argument:
            *sources, destination = shlex.split(argument)
            found.append((sources, destination))
    return found


def project_packages() -> set[str]:
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    return {pattern.rstrip("*").rstrip(".") for pattern in include}


# --- the Dockerfile's structure --------------------------------------------------------------------------------

def test_the_dockerfile_builds_a_wheelhouse_and_installs_from_it_offline_as_a_non_root_user():
    names = [s["name"] for s in stages()[1:]]
    assert names == ["wheels-online", "wheels-offline", "wheelhouse", "builder", "runtime"], names
    assert ("ARG", "WHEELS=online") in stages()[0]["steps"]
    assert stage("wheelhouse")["base"] == "wheels-${WHEELS}"

    online = " ".join(a for i, a in stage("wheels-online")["steps"] if i == "RUN")
    for lock in ("runtime.txt", "build.txt"):
        assert re.search(rf"pip wheel --require-hashes --wheel-dir /wheels -r /requirements/{lock}", online), lock
    assert [d for _, d in copies("wheels-offline")] == ["/wheels/"]

    runtime = stage("runtime")["steps"]
    runs = [a for i, a in runtime if i == "RUN"]
    installs = [cmd for run in runs for cmd in re.split(r"&&|;", run) if "pip install" in cmd]
    # The wheels built from source-only packages (checked as source in the wheel stage), then every
    # downloaded wheel against the lock, then the desk: all from the wheelhouse only.
    assert len(installs) == 3 and all("--no-index" in cmd for cmd in installs), installs
    assert "--no-deps /wheels/built/*.whl" in installs[0]
    assert "--require-hashes -r /tmp/runtime.txt" in installs[1]
    assert not [run for run in runs if re.search(r"pip (wheel|download)|apt-get|gcc|build-essential", run)]
    # The wheelhouse is mounted for the install step only, never copied into a layer of the image.
    assert not [a for i, a in runtime if i == "COPY" and "--from=" in a]
    assert any("--mount=type=bind,from=builder,source=/wheels" in run for run in runs)
    assert any("manage.py collectstatic --noinput" in run for run in runs)

    users = [a for i, a in runtime if i == "USER"]
    assert users and re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", users[-1]), users  # numeric: runAsNonRoot checks it
    order = [i for i, _ in runtime]
    assert order.index("CMD") > len(order) - 1 - order[::-1].index("USER")


def test_the_builder_copies_every_package_of_the_project():
    copied = {Path(source).parts[0] for sources, _ in copies("builder") for source in sources}
    assert project_packages() <= copied, project_packages() - copied
    assert {"pyproject.toml", "README.md"} <= copied
    # What the image runs from /app besides the installed wheel: manage.py and the gunicorn configuration.
    runtime_copied = {source for sources, _ in copies("runtime") for source in sources}
    assert {"manage.py", "deploy", "requirements/runtime.txt"} <= runtime_copied
    ignored = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().split()
    assert not (project_packages() | {"requirements", "deploy", "manage.py"}) & set(ignored)


# --- the install path, for real --------------------------------------------------------------------------------

def run(argv: list[str], *, offline: bool, env: dict[str, str], cwd: Path | None = None) -> str:
    if offline:
        argv = ["unshare", "--net", "--", *argv]
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{shlex.join(argv)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def offline_install(tmp_path_factory):
    """(the fresh venv's python, the app directory, a clean environment): the desk installed offline."""
    assert shutil.which("unshare"), "unshare (util-linux) is needed to take the network away"
    work = tmp_path_factory.mktemp("offline-install")
    wheels, source, venv, app = work / "wheels", work / "src", work / "venv", work / "app"
    pip = [sys.executable, "-m", "pip"]

    # 1. The connected machine: every locked wheel, checked against its hash (pip's cache keeps repeated runs
    #    from downloading again).
    run([*pip, "wheel", "--quiet", "--require-hashes", "--wheel-dir", str(wheels), "-r", str(RUNTIME_LOCK),
         "-r", str(BUILD_LOCK)], offline=False, env=dict(os.environ))
    # Wheels built from source-only packages (python-ldap) cannot match the lock's source hash: set apart.
    run([sys.executable, str(ROOT / "deploy" / "sort_built_wheels.py"), str(wheels), str(RUNTIME_LOCK),
         str(BUILD_LOCK)], offline=False, env=dict(os.environ))

    # From here on, no network and no pip configuration of this machine: only the wheelhouse.
    clean = {"PATH": os.environ["PATH"], "HOME": str(work), "LANG": "C.UTF-8", "PIP_CONFIG_FILE": os.devnull,
             "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    # 2. The builder stage: the project's wheel from exactly what the Dockerfile copies.
    for sources, destination in copies("builder"):
        for item in sources:
            # COPY semantics: into a directory when the destination ends with "/", else to that name.
            target = source / destination / Path(item).name if destination.endswith("/") else source / destination
            if (ROOT / item).is_dir():
                shutil.copytree(ROOT / item, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / item, target)
    run([*pip, "wheel", "--no-index", "--find-links", str(wheels), "--no-deps", "--wheel-dir", str(wheels),
         str(source)], offline=True, env=clean)

    # 3. The runtime stage: a fresh environment from the wheelhouse, hash-checked, then the desk's wheel.
    run([sys.executable, "-m", "venv", str(venv)], offline=True, env=clean)
    python = venv / "bin" / "python"
    built = sorted(str(w) for w in (wheels / "built").glob("*.whl"))
    if built:
        run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", *built], offline=True,
            env=clean)
    run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(wheels),
         "--require-hashes", "-r", str(RUNTIME_LOCK)], offline=True, env=clean)
    (desk_wheel,) = wheels.glob("opsdesk-*.whl")
    run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(desk_wheel)],
        offline=True, env=clean)

    # /app of the image: manage.py and deploy/, nothing of the sources.
    app.mkdir()
    shutil.copy2(ROOT / "manage.py", app / "manage.py")
    shutil.copytree(ROOT / "deploy", app / "deploy", ignore=shutil.ignore_patterns("__pycache__"))
    desk_env = {**clean, "OPSDESK_VAR_DIR": str(work / "var"), "DJANGO_STATIC_ROOT": str(app / "static")}
    return python, app, desk_env


def test_the_desk_installs_and_starts_from_the_wheelhouse_without_a_network(offline_install):
    python, app, env = offline_install
    where = run([str(python), "-c", "import django, opsdesk, storages, ldap; print(django.__version__, opsdesk.__file__)"],
                offline=True, env=env, cwd=app)
    assert str(python.parent.parent) in where, f"opsdesk imported from elsewhere: {where}"
    run([str(python), "-m", "pip", "check"], offline=True, env=env)
    # Development tools never reach the image.
    installed = {re.split(r"[=@ ]", line, maxsplit=1)[0].strip().lower()
                 for line in run([str(python), "-m", "pip", "freeze"], offline=True, env=env).splitlines()}
    assert {"django", "opsdesk", "gunicorn", "celery"} <= installed
    assert not {"honcho", "pytest", "ruff", "uv"} & installed

    assert "no issues" in run([str(python), "manage.py", "check"], offline=True, env=env, cwd=app)
    run([str(python), "manage.py", "migrate", "--noinput"], offline=True, env=env, cwd=app)
    collected = run([str(python), "manage.py", "collectstatic", "--noinput"], offline=True, env=env, cwd=app)
    assert int(re.search(r"(\d+) static files? copied", collected)[1]) > 0
    assert list((app / "static").glob("alerts/**/*.js")), "the apps' static files are not in the wheel"
    # The login page renders from the installed templates, in Chinese from the installed catalogues.
    page = run([str(python), "-c", "import django; django.setup(); from django.test import Client; "
                "r = Client().get('/accounts/login/', secure=True); print(r.status_code); print(r.content.decode())"],
               offline=True, env={**env, "DJANGO_SETTINGS_MODULE": "opsdesk.settings"}, cwd=app)
    status, _, body = page.partition("\n")
    assert status == "200" and "登录" in body, page[:500]
