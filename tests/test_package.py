"""The package as a city installs it: the wheel and the sdist hold everything the app reads.

The sdist and the wheels are built into a temporary folder (hatchling writes nothing into the
checkout); the wheel built from the sdist is installed into a fresh virtualenv outside the
checkout (its dependencies come from the package index or pip's cache), and the installed
``ambassador`` migrates a new SQLite database and serves the public pages from a working
directory outside the checkout. See docs/packaging.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import SECRET
from tests.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"
# Repository folder -> where the wheel holds it. templates/ and migrations/ stay at the top level
# of the repository and go inside the package (hatch_build.py).
INTO_WHEEL = {"ambassador": "ambassador", "templates": "ambassador/templates", "migrations": "ambassador/migrations"}
SHIPPED_NAME = "Fundacja Diversity Hub"  # a laureate of 2018 in ambassador/data/laureates-2018-2024.csv
START_SECONDS = 60

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("AMBASSADOR_TEST_DATABASE")),
    reason="the installed app uses its own SQLite database, not the test database: it runs in the SQLite pass",
)


def repository_files(folder: str) -> list[str]:
    """The files of a repository folder that a build ships (what .gitignore leaves: no bytecode, no .mo)."""
    base = ROOT / folder
    return sorted(
        path.relative_to(base).as_posix()
        for path in base.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".mo")
    )


def expected_wheel_files() -> list[str]:
    return sorted(f"{target}/{name}" for folder, target in INTO_WHEEL.items() for name in repository_files(folder))


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass(frozen=True)
class Built:
    wheel: Path  # built from the checkout
    sdist: Path
    wheel_from_sdist: Path
    checkout_before: list[str]
    checkout_after: list[str]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    direct = tmp_path_factory.mktemp("wheel")
    chain = tmp_path_factory.mktemp("sdist")
    before = sorted(p.name for p in ROOT.iterdir())
    build = [sys.executable, "-m", "build", "--no-isolation"]
    run([*build, "--wheel", "--outdir", str(direct), str(ROOT)], cwd=direct)
    # Without --wheel/--sdist, build makes the sdist and then the wheel from the unpacked sdist.
    run([*build, "--outdir", str(chain), str(ROOT)], cwd=chain)
    wheel_name = f"ambassador-{VERSION}-py3-none-any.whl"
    return Built(
        wheel=direct / wheel_name,
        sdist=chain / f"ambassador-{VERSION}.tar.gz",
        wheel_from_sdist=chain / wheel_name,
        checkout_before=before,
        checkout_after=sorted(p.name for p in ROOT.iterdir()),
    )


def wheel_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return sorted(name for name in archive.namelist() if not name.startswith(f"ambassador-{VERSION}.dist-info/"))


def test_the_wheel_holds_the_package_templates_and_migrations(built: Built) -> None:
    files = wheel_files(built.wheel)

    assert files == expected_wheel_files()
    for needed in (
        "ambassador/py.typed",
        "ambassador/templates/base.html",
        "ambassador/migrations/ambassador_2026_11_24t19_09_33_160394.py",
        "ambassador/static/css/app.css",
        "ambassador/static/favicon.svg",
        "ambassador/static/fonts/DejaVuSans.ttf",
        "ambassador/locale/pl/LC_MESSAGES/messages.po",
        "ambassador/data/laureates-2018-2024.csv",
        "ambassador/honours/krakow.toml",
    ):
        assert needed in files
    assert built.checkout_after == built.checkout_before  # no build/, dist/ or *.egg-info left behind


def test_the_sdist_holds_what_the_wheel_is_built_from_and_its_wheel_is_the_same(built: Built) -> None:
    prefix = f"ambassador-{VERSION}/"
    with tarfile.open(built.sdist) as archive:
        names = sorted(m.name.removeprefix(prefix) for m in archive.getmembers() if m.isfile())
    for folder in ("ambassador", "templates", "migrations"):
        assert [n.removeprefix(f"{folder}/") for n in names if n.startswith(f"{folder}/")] == repository_files(folder)
    for needed in ("pyproject.toml", "hatch_build.py", "README.md", "PKG-INFO", "Makefile", "babel.cfg"):
        assert needed in names

    with zipfile.ZipFile(built.wheel) as direct, zipfile.ZipFile(built.wheel_from_sdist) as from_sdist:
        names = wheel_files(built.wheel)
        assert wheel_files(built.wheel_from_sdist) == names
        assert [from_sdist.read(n) for n in names] == [direct.read(n) for n in names]


def start_server(venv: Path, port: int, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start the installed app on 127.0.0.1:port, as the deployment does (``ambassador serve``)."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(venv / "bin" / "ambassador"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def installed_server(venv: Path, cwd: Path, env: dict[str, str]) -> Iterator[httpx.Client]:
    port = free_port()
    log = cwd / "server.log"
    process = start_server(venv, port, cwd, env, log)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + START_SECONDS
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the installed app did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield client
    finally:
        process.terminate()
        process.wait(15)


def found(page: str) -> str:
    """The archive's count of laureates found (its status line)."""
    status = re.search(r'<p role="status">([^<]*)</p>', page)
    assert status is not None
    return status[1]


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if "__pycache__" not in p.parts)


def test_the_installed_wheel_migrates_and_serves_from_outside_the_checkout(
    built: Built, tmp_path_factory: pytest.TempPathFactory
) -> None:
    venv = tmp_path_factory.mktemp("venv")
    work = tmp_path_factory.mktemp("work")  # the working directory: var/ and the database go here
    assert not venv.is_relative_to(ROOT) and not work.is_relative_to(ROOT)
    # A fresh virtualenv; this interpreter's pip installs into it (as `<venv>/bin/pip install` would).
    run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(venv)], cwd=work)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(built.wheel_from_sdist)], cwd=work)

    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AMBASSADOR_", "PICCOLO_", "PYTHON"))}
    env = {
        **keep,
        "AMBASSADOR_DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "AMBASSADOR_SECRET_KEY": SECRET,
        "AMBASSADOR_ARCHIVE_CACHE_SECONDS": "0",
    }
    where = run(
        [str(python), "-c", "from ambassador import resources as r; print(r.PACKAGE_DIR)"],
        cwd=work,
        env=env,
    ).split()
    package = Path(where[0])
    assert package == venv / "lib" / "python3.11" / "site-packages" / "ambassador"
    installed_before = tree(package)

    run([str(venv / "bin" / "ambassador"), "migrate"], cwd=work, env=env)
    with installed_server(venv, work, env) as client:
        home = client.get("/", follow_redirects=True)
        assert home.status_code == 200
        assert "<h1>Krakowski Ambasador Wielokulturowości</h1>" in home.text  # the Polish catalog, from the install
        stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', home.text)
        assert stylesheet is not None
        css = client.get(stylesheet[1])
        assert (css.status_code, css.content) == (200, (ROOT / "ambassador/static/css/app.css").read_bytes())
        favicon = client.get("/static/favicon.svg")
        assert (favicon.status_code, favicon.content) == (200, (ROOT / "ambassador/static/favicon.svg").read_bytes())

        nominate = client.get("/nominate", follow_redirects=True)
        assert nominate.status_code == 200
        assert "<h1>Zgłoś kandydaturę do tytułu</h1>" in nominate.text  # no edition open on a new install

        # `migrate` loads no laureates: the shipped record is imported by hand (dev-setup does it in development).
        empty = client.get("/laureates", follow_redirects=True)
        assert empty.status_code == 200
        assert "<h1>Laureaci</h1>" in empty.text
        assert found(empty.text) == "Znaleziono 0 laureatów."
        imported = run([str(venv / "bin" / "ambassador"), "laureates", "import", "--shipped"], cwd=work, env=env)
        assert imported.splitlines()[-1] == (
            "24 laureates imported, 0 already present, 6 editions created, 0 lines with errors"
        )
        archive = client.get("/laureates", follow_redirects=True)
        assert archive.status_code == 200
        assert found(archive.text) == "Znaleziono 24 laureatów."
        search = client.get("/laureates", follow_redirects=True, params={"q": SHIPPED_NAME})
        assert (search.status_code, found(search.text)) == (200, "Znaleziono 1 laureata.")
        assert f">{SHIPPED_NAME}</a>" in search.text

    assert tree(package) == installed_before  # the app wrote nothing into site-packages
    assert sorted(p.name for p in work.iterdir() if p.name.startswith("var")) == ["var"]  # var/ is cwd-relative
