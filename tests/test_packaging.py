"""What ``pip install newscrawl`` (or a scrapyd egg) gets: the crawler's package
and its schema, and nothing of the lab beside it (replica, bench, tests).

The wheel and the sdist are built offline from a copy of the checkout (building
writes ``build/`` and egg metadata into the source folder), with the setuptools
of this environment (no build isolation: no download).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from replica.localrun import PROJECT_ROOT

PACKAGE = "newscrawl"
SCHEMA = f"{PACKAGE}/schemas/article.schema.json"
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "output",
    "state",
    ".replica",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("packaging") / "src"
    shutil.copytree(PROJECT_ROOT, copy, ignore=NOT_SOURCES)
    return copy


def package_files() -> set[str]:
    """The crawler's modules and its schema, as they lie in the checkout."""
    root = PROJECT_ROOT / PACKAGE
    found = {p for p in root.rglob("*.py") if "__pycache__" not in p.parts}
    found |= set(root.glob("schemas/*.json"))
    return {p.relative_to(PROJECT_ROOT).as_posix() for p in found}


def test_the_wheel_holds_the_crawler_package_and_its_schema_only(
    source: Path, tmp_path: Path
) -> None:
    offline = ["--no-deps", "--no-build-isolation", "--no-index"]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", *offline, "-q", "-w", str(tmp_path)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob(f"{PACKAGE}-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (info,) = {n.split("/")[0] for n in names if ".dist-info/" in n}
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
        metadata = zf.read(f"{info}/METADATA").decode()
    assert {n.split("/")[0] for n in names} == {PACKAGE, info}
    assert {n for n in names if not n.startswith(info)} == package_files()
    assert SCHEMA in names
    # scrapyd finds the settings module of a deployed egg by this entry point.
    assert "[scrapy]\nsettings = newscrawl.settings" in entry_points
    requires = [
        line.split(":", 1)[1].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert not [r for r in requires if r.startswith("numpy")], requires
    assert "python-dateutil<3,>=2.8.2" in requires


def test_the_sdist_holds_the_schema(source: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools.build_meta import build_sdist;"
            " print(build_sdist(sys.argv[1]))",
            str(tmp_path),
        ],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sdist = tmp_path / result.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tf:
        names = {name.split("/", 1)[1] for name in tf.getnames() if "/" in name}
    assert SCHEMA in names
    assert {n for n in names if n.startswith(f"{PACKAGE}/")} >= package_files()
