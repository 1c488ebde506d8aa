"""``house-price up``, the README's main job, run as a user runs it."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest
import requests

from served import distinct_free_ports
from servers import free_port


def _stop_tracking_server(port: int) -> None:
    """Stop the server ``up`` left running (it is detached on purpose)."""
    subprocess.run(["pkill", "-TERM", "-f", "--", f"--port {port} "], check=False)


def _wait_for_line(process: subprocess.Popen, prefix: str, timeout: float) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line.rstrip("\n"))
        if line.strip().startswith(prefix):
            return lines
    raise AssertionError(f"no line starting with {prefix!r}; got:\n" + "\n".join(lines))


@pytest.mark.slow
def test_up_starts_tracking_trains_registers_and_serves(tmp_path, real_data_dir):
    mlflow_port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{mlflow_port}",
        "MLFLOW_BACKEND_STORE_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "MLFLOW_ARTIFACTS_DESTINATION": str(tmp_path / "mlartifacts"),
    }
    ports = [str(port) for port in distinct_free_ports(3)]
    command = [sys.executable, "-m", "house_price.cli", "up", "--data", str(real_data_dir),
               "--http-port", ports[0], "--grpc-port", ports[1], "--metrics-port", ports[2]]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=env, start_new_session=True)
    try:
        lines = _wait_for_line(process, "curl ", timeout=600)
        curl = shlex.split(lines[-1].strip())
        answer = subprocess.run(curl, capture_output=True, text=True, timeout=60, check=True)
        ready = requests.get(f"http://127.0.0.1:{ports[0]}/v2/health/ready", timeout=5)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(60)
        _stop_tracking_server(mlflow_port)

    assert f"Started the tracking server: http://127.0.0.1:{mlflow_port}" in lines
    assert "RMSE: 28413.02" in lines
    assert "Model URI: models:/house-price-model@champion" in lines
    assert ready.status_code == 200
    assert len(json.loads(answer.stdout)["predictions"]) == 5
