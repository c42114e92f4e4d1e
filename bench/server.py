"""A fast static server for a replica: nginx when the system has it, else Twisted.

Why nginx first: the benchmark measures the crawler's CPU, so the server must not
be the bottleneck nor steal much of the second core. nginx serves a 25 KB file in
a few microseconds with keep-alive; the replica's own Twisted server
(``replica.ReplicaServer``) costs ~1 ms of Python a request. Both speak
HTTP/1.1 with keep-alive and real 404s (LESSONS.md: never ``http.server``).

nginx runs unprivileged-style from a private prefix (its own config, pid, temp
folders and error log under a temporary folder), in the foreground, one worker,
without an access log. It reads files on each request, so the site may be
rebuilt in place (``build_site`` swaps folders) while it is served.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

from replica import ReplicaServer
from replica.server import Served, site_dir_of

NGINX_START_TIMEOUT = 10.0
NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    types {{
        text/html html htm shtml;
        application/xml xml;
        text/css css;
        application/javascript js;
    }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/html application/xml text/css application/javascript;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {site};
        index index.shtml;
        autoindex off;
    }}
}}
"""


def nginx_binary() -> str | None:
    """The nginx executable, if installed (``apt-get install -y nginx``)."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).is_file()), None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NginxServer(Served):
    """nginx serving ``root/site`` on 127.0.0.1, as a context manager."""

    name = "nginx"

    def __init__(self, root_or_site_dir: Path | str, binary: str) -> None:
        self.site_dir = site_dir_of(Path(root_or_site_dir)).resolve()
        self.binary = binary
        self.base_url = ""
        self.pid: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._prefix: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> Self:
        self._prefix = tempfile.TemporaryDirectory(prefix="bench-nginx-")
        prefix = Path(self._prefix.name)
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / sub).mkdir()
        last_error = ""
        for _ in range(5):  # the port picked may be taken before nginx binds it
            port = free_port()
            conf = prefix / "nginx.conf"
            conf.write_text(NGINX_CONF.format(prefix=prefix, port=port, site=self.site_dir))
            self._proc = subprocess.Popen(
                [self.binary, "-p", str(prefix), "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + NGINX_START_TIMEOUT
            while time.monotonic() < deadline and self._proc.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        self.base_url = f"http://127.0.0.1:{port}"
                        self.pid = self._proc.pid
                        return self
                except OSError:
                    time.sleep(0.05)
            log = prefix / "error.log"
            last_error = log.read_text(errors="replace")[-500:] if log.exists() else ""
            self._stop_proc()
        self.stop()
        raise RuntimeError(f"nginx did not start: {last_error}")

    def _stop_proc(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        self._stop_proc()
        if self._prefix is not None:
            self._prefix.cleanup()
            self._prefix = None


class TwistedServer(ReplicaServer):
    """The replica's own Twisted server, named for the report."""

    name = "twisted"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None


StaticServer = NginxServer | TwistedServer


def static_server(root: Path, prefer: str = "nginx") -> StaticServer:
    """nginx if ``prefer`` is ``nginx`` and it is installed, else Twisted (not started)."""
    binary = nginx_binary() if prefer == "nginx" else None
    if binary:
        return NginxServer(root, binary)
    return TwistedServer(root)
