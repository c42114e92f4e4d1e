"""scrapyd as its users run it: a real scrapyd on 127.0.0.1 configured by a
``scrapyd.conf`` in its working folder, the project deployed as an egg with
``scrapyd-deploy`` (a ``[deploy:…]`` target in ``scrapy.cfg``), and jobs scheduled
and watched through ``schedule.json`` and ``listjobs.json`` against the replica.

scrapyd runs the project from the zipped egg, with scrapyd's folder as the
working folder: package data must be read with ``importlib.resources`` and the
output and state folders given as absolute paths. A job shows as finished
whatever its exit code, so what was delivered is read from the manifests.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from replica.localrun import PROJECT_ROOT, read_jsonl
from tests.conftest import Replica

BIN = Path(sys.executable).parent
PROJECT = "newscrawl"
# What the checkout holds besides the project's sources: not copied for the deploy.
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "*.egg-info",
    "__pycache__",
    "output",
    "state",
    ".replica",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env() -> dict[str, str]:
    """The environment without PYTHONPATH: nothing but the egg may bring the project
    to scrapyd's jobs."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@dataclass
class Scrapyd:
    url: str
    folder: Path
    log: Path

    def get(self, endpoint: str, **params: str) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{endpoint}{query}", timeout=10) as response:
            return json.load(response)

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> dict:
        data = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(f"{self.url}{endpoint}", data, timeout=10) as response:
            return json.load(response)

    def job_log(self, job: str) -> str:
        path = self.folder / "logs" / PROJECT / "ecns" / f"{job}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def wait_finished(self, job: str, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for finished in self.get("listjobs.json", project=PROJECT)["finished"]:
                if finished["id"] == job:
                    return finished
            time.sleep(0.2)
        pytest.fail(f"job {job} not finished in {timeout} s:\n{self.job_log(job)[-3000:]}")


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    """scrapyd in a folder of its own, its eggs, logs and queues inside it."""
    folder = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    (folder / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {folder / 'eggs'}\n"
        f"logs_dir = {folder / 'logs'}\n"
        f"dbs_dir = {folder / 'dbs'}\n"
        "items_dir =\n"
        "max_proc = 2\n"
        "poll_interval = 0.2\n",
        encoding="utf-8",
    )
    log = folder / "scrapyd.out"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "scrapyd")],
            cwd=folder,
            env=clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Scrapyd(f"http://127.0.0.1:{port}/", folder, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if server.get("daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"scrapyd did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def deployed(scrapyd: Scrapyd, tmp_path_factory: pytest.TempPathFactory) -> Scrapyd:
    """The project deployed with ``scrapyd-deploy TARGET``, from a copy of the
    checkout (the deploy writes ``setup.py``, ``build/`` and egg metadata beside
    ``scrapy.cfg``)."""
    project = tmp_path_factory.mktemp("deploy") / "project"
    shutil.copytree(PROJECT_ROOT, project, ignore=NOT_SOURCES)
    cfg = project / "scrapy.cfg"
    cfg.write_text(
        cfg.read_text(encoding="utf-8")
        + f"\n[deploy:test]\nurl = {scrapyd.url}\nproject = {PROJECT}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "test"],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"status": "ok"' in result.stdout, result.stdout + result.stderr
    assert scrapyd.get("listspiders.json", project=PROJECT)["spiders"] == ["ecns"]
    return scrapyd


def manifests(output: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(output.glob("*.manifest.json"))}


def delivered_paths(output: Path, manifest: dict) -> list[str]:
    """The stories of the files a complete manifest names (what a consumer reads)."""
    assert manifest["status"] == "complete", manifest
    return [
        urlsplit(item["url"]).path
        for f in manifest["files"]
        for item in read_jsonl(output / f["path"])
    ]


def test_scheduled_jobs_deliver_each_story_once_and_report_failures_only_in_logs(
    deployed: Scrapyd, replica: Replica, tmp_path: Path
) -> None:
    output, state = tmp_path / "out", tmp_path / "state"

    def schedule(*extra: tuple[str, str]) -> str:
        fields = [
            ("project", PROJECT),
            ("spider", "ecns"),
            ("setting", f"ECNS_BASE_URL={replica.base_url}"),
            ("setting", f"NEWSCRAWL_OUTPUT_DIR={output}"),
            ("setting", f"NEWSCRAWL_STATE_DIR={state}"),
            ("setting", "DOWNLOAD_DELAY=0"),
            ("setting", "AUTOTHROTTLE_ENABLED=False"),
            *extra,
        ]
        answer = deployed.post("schedule.json", fields)
        assert answer["status"] == "ok", answer
        return answer["jobid"]

    def run_job() -> dict:
        before = set(manifests(output))
        job = schedule(("sections", "politics"))
        deployed.wait_finished(job)
        new = {name: m for name, m in manifests(output).items() if name not in before}
        assert len(new) == 1, f"manifests {sorted(new)}:\n{deployed.job_log(job)[-3000:]}"
        (manifest,) = new.values()
        assert manifest["exit_code"] == 0, deployed.job_log(job)[-3000:]
        return manifest

    known = {s["path"] for s in replica.truth()}
    first = run_job()
    first_paths = delivered_paths(output, first)
    assert first_paths and set(first_paths) <= known
    assert len(first_paths) == len(set(first_paths))

    replica.rebuild(new_on_top=4)
    new = {s["path"] for s in replica.truth()} - known
    assert len(new) == 4
    second = run_job()
    assert sorted(delivered_paths(output, second)) == sorted(new)

    # A job that fails (here an unknown section: exit 2, nothing touched) is listed
    # as finished all the same; its exit code and one-line error are in scrapyd's
    # own log, the crawl's log in the job's log file.
    job = schedule(("sections", "no-such-section"))
    deployed.wait_finished(job)
    assert len(manifests(output)) == 2
    deadline = time.monotonic() + 10
    while "exitstatus=2" not in (said := deployed.log.read_text(errors="replace")):
        assert time.monotonic() < deadline, said[-3000:]
        time.sleep(0.1)
    (line,) = [x for x in said.splitlines() if "Process died" in x]
    assert job in line
    assert "unknown section(s) no-such-section" in said
