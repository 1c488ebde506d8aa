"""Start real servers for the tests: free ports, readiness polling, clean shutdown."""

from __future__ import annotations

import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import requests


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Poll ``url`` until it answers 200; fail with the server's log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout} s:\n{log.read_text()[-4000:]}")


@contextmanager
def running(command: list[str], ready_url: str, log: Path, *, cwd=None, env=None, timeout=180):
    """Run ``command`` until the block ends; its output goes to ``log``."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                   env=env, start_new_session=True)
    try:
        wait_http(ready_url, process, log, timeout)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen, grace: float = 15) -> None:
    """Terminate ``process`` and everything it started; kill what outlives ``grace`` seconds."""
    import os
    import signal

    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def mlflow_command(root: Path, port: int) -> list[str]:
    """Return the ``mlflow server`` command for a store under ``root``, on loopback."""
    return [
        "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination", str(root / "mlartifacts"), "--workers", "1",
    ]


@contextmanager
def mlflow_server(root: Path, port: int | None = None):
    """Run ``mlflow server`` on loopback with its SQLite store and artifacts under ``root``.

    Yields the tracking URI.
    """
    port = port or free_port()
    root.mkdir(parents=True, exist_ok=True)
    uri = f"http://127.0.0.1:{port}"
    with running(mlflow_command(root, port), f"{uri}/health", root / "mlflow-server.log"):
        yield uri
