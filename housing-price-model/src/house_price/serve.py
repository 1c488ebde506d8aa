"""Serve a model with MLServer here, from the same build context the Docker image is built from."""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from house_price.context import MODEL_DIR, MODEL_NAME, ServerSettings, write_context
from house_price.errors import UserError

log = logging.getLogger(__name__)

READY_PATH = "/v2/health/ready"
READY_TIMEOUT = 300.0
STOP_GRACE = 15.0


class ServeError(UserError):
    """MLServer could not start, or did not become ready."""


def base_url(settings: ServerSettings) -> str:
    """Return the HTTP address clients use (loopback when the server listens everywhere)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.http_port}"


def check_ports_free(settings: ServerSettings) -> None:
    """Fail before starting MLServer when one of its ports is taken.

    Raises:
        ServeError: the message names the port and the option that moves it.
    """
    ports = {"--http-port": settings.http_port, "--grpc-port": settings.grpc_port,
             "--metrics-port": settings.metrics_port}
    if len(set(ports.values())) < len(ports):
        raise ServeError(f"the HTTP, gRPC and metrics ports must differ (got {ports})")
    for option, port in ports.items():
        with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as sock:
            # As the servers do, so that a port left in TIME_WAIT by a stopped server counts free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((settings.host, port))
            except OSError as error:
                raise ServeError(f"cannot listen on {settings.host}:{port} ({error.strerror}): "
                                 f"stop what uses it or choose another {option}") from None


def mlserver_command(context: Path) -> list[str]:
    """Return the command that serves ``context``, with the ``mlserver`` of this environment."""
    beside = Path(sys.executable).with_name("mlserver")
    executable = str(beside) if beside.is_file() else shutil.which("mlserver")
    if not executable:
        raise ServeError("mlserver is not installed: run `uv sync` at the repository root "
                         "(it installs housing-price-model[serve])")
    return [executable, "start", str(context)]


def model_state(url: str) -> tuple[str, str]:
    """Return the model's ``(state, reason)`` from MLServer's repository index."""
    response = requests.post(f"{url}/v2/repository/index", json={}, timeout=5)
    for entry in response.json():
        if entry.get("name") == MODEL_NAME:
            return entry.get("state", ""), entry.get("reason", "")
    return "", ""


def wait_ready(url: str, process: subprocess.Popen, timeout: float = READY_TIMEOUT) -> None:
    """Poll ``url`` + ``/v2/health/ready`` until it answers 200.

    Raises:
        ServeError: MLServer exited, the model failed to load, or ``timeout`` passed.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServeError(f"MLServer exited with code {process.returncode} before it was "
                             "ready; its log above says why")
        try:
            if requests.get(url + READY_PATH, timeout=2).status_code == 200:
                return
            state, reason = model_state(url)
            if state == "UNAVAILABLE":
                raise ServeError(f"MLServer could not load the model: {reason or 'see its log'}")
        except requests.RequestException:
            pass  # not listening yet
        time.sleep(0.5)
    raise ServeError(f"MLServer was not ready at {url}{READY_PATH} after {timeout:.0f} s; "
                     "its log above says what it is doing")


def stop(process: subprocess.Popen, grace: float = STOP_GRACE) -> int:
    """Ask MLServer to stop, kill it after ``grace`` seconds; return its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            log.warning("MLServer did not stop within %.0f s; killing it", grace)
            process.kill()
    return process.wait()


def curl_example(url: str, context: Path) -> str:
    """Return a ``curl`` command that posts the model's own example request to ``url``."""
    example = context / MODEL_DIR / "serving_input_example.json"
    return (f"curl -s -X POST {url}/invocations -H 'Content-Type: application/json' "
            f"--data @{shlex.quote(str(example))}")


class Terminated(KeyboardInterrupt):
    """SIGTERM reached this process; unlike Ctrl-C, it did not reach MLServer."""


def _raise_terminated(signum, frame):
    raise Terminated


def serve(
    model_uri: str,
    settings: ServerSettings | None = None,
    context_dir: str | None = None,
    ready_timeout: float = READY_TIMEOUT,
) -> int:
    """Write the build context of ``model_uri``, run MLServer on it until stopped.

    Without ``context_dir`` the context goes to a temporary folder removed on exit. Prints the
    address and a working ``curl`` example once ``/v2/health/ready`` answers 200. SIGTERM and
    Ctrl-C stop MLServer and raise ``KeyboardInterrupt``. Returns 0 when MLServer stops itself
    cleanly.

    Raises:
        ServeError: a port is taken, MLServer failed to start or to load the model, or it
            stopped with an error.
        ModelNotFoundError, TrackingServerUnavailable, UntrustedModelError: see
            ``house_price.context.write_context``.
    """
    settings = settings or ServerSettings(host="127.0.0.1")
    check_ports_free(settings)
    scratch = None if context_dir else Path(tempfile.mkdtemp(prefix="house-price-serve-"))
    context = Path(context_dir) if context_dir else scratch / "context"
    # Signal handlers can only be set from the main thread; elsewhere SIGTERM keeps its default.
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if main else None
    try:
        write_context(model_uri, context, settings)
        return _run(context, settings, ready_timeout, model_uri)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def _run(context: Path, settings: ServerSettings, ready_timeout: float, model_uri: str) -> int:
    url = base_url(settings)
    with tempfile.TemporaryDirectory(prefix="house-price-metrics-") as metrics:
        # MLServer keeps metrics files in its working directory unless told otherwise; they do
        # not belong in a context that may be built into an image next.
        env = {**os.environ, "MLSERVER_METRICS_DIR": metrics}
        process = subprocess.Popen(mlserver_command(context), cwd=context, env=env)
        return _supervise(process, url, ready_timeout, model_uri, context)


def _supervise(process: subprocess.Popen, url: str, ready_timeout: float, model_uri: str,
               context: Path) -> int:
    try:
        wait_ready(url, process, ready_timeout)
        print(f"Serving {model_uri} at {url} (Ctrl-C stops it). Try:", flush=True)
        print(f"  {curl_example(url, context)}", flush=True)
        code = process.wait()
    except Terminated:
        stop(process)
        raise
    except KeyboardInterrupt:
        # Ctrl-C went to the whole foreground group: MLServer is stopping already, and a second
        # signal would make it run its shutdown twice.
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_GRACE)
        raise
    finally:
        stop(process)
    if code != 0:
        raise ServeError(f"MLServer stopped with exit code {code}; its log above says why")
    return code
