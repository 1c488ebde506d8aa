"""``compose.yaml``, checked by a real Compose implementation (`config` needs no engine)."""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest
import requests
import yaml

from servers import free_port, mlflow_command, running

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
PORTS = ["127.0.0.1:8080:8080/tcp", "127.0.0.1:8081:8081/tcp", "127.0.0.1:8082:8082/tcp"]

pytestmark = pytest.mark.skipif(shutil.which("docker-compose") is None,
                                reason="docker-compose absent: apt-get install docker-compose")


def compose_config(path: Path = COMPOSE, env: dict | None = None):
    """Run ``docker-compose config`` on ``path``; return the process."""
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_BIND_ADDRESS")}
    return subprocess.run(["docker-compose", "-f", str(path), "config"], capture_output=True,
                          text=True, timeout=60, env={**clean, **(env or {})})


def services(env: dict | None = None) -> dict:
    """Return the services of the resolved configuration."""
    done = compose_config(env=env)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["services"]


def allowed_hosts(service: dict) -> list[str]:
    """Return the ``--allowed-hosts`` list of the tracking server's command."""
    [value] = [arg.split("=", 1)[1] for arg in service["command"]
               if arg.startswith("--allowed-hosts=")]
    return value.split(",")


def test_compose_file_is_valid_and_the_model_is_published_on_loopback():
    model = services()["model"]

    assert model["image"] == "house-price-model:latest"
    assert sorted(model["ports"]) == PORTS
    assert "/v2/health/ready" in " ".join(model["healthcheck"]["test"])


def test_bind_address_can_be_opened_on_purpose():
    model = services({"MODEL_BIND_ADDRESS": "0.0.0.0"})["model"]

    assert sorted(model["ports"]) == [port.replace("127.0.0.1", "0.0.0.0") for port in PORTS]


def test_tracking_server_keeps_its_store_in_a_volume_and_allows_exactly_its_hosts():
    config = yaml.safe_load(compose_config().stdout)
    mlflow = config["services"]["mlflow"]

    assert mlflow["image"] == f"ghcr.io/mlflow/mlflow:v{version('mlflow')}"
    assert mlflow["ports"] == ["127.0.0.1:9999:9999/tcp"]
    assert "mlflow-store:/mlflow:rw" in mlflow["volumes"]
    assert "mlflow-store" in config["volumes"]
    assert sorted(allowed_hosts(mlflow)) == ["127.0.0.1:9999", "localhost:9999", "mlflow:9999"]


def test_the_validator_rejects_a_broken_compose_file(tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    image: house-price-model:latest",
                                                  "    imagee: house-price-model:latest"))

    done = compose_config(broken)

    assert done.returncode != 0
    assert "imagee" in done.stderr


@pytest.mark.slow
def test_allowed_hosts_admit_the_service_name_and_loopback_and_refuse_others(tmp_path):
    """Run a real tracking server with the compose file's list, moved to a free port."""
    port = free_port()
    hosts = [host.replace(":9999", f":{port}") for host in allowed_hosts(services()["mlflow"])]
    command = [*mlflow_command(tmp_path, port), "--allowed-hosts", ",".join(hosts)]
    url = f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search?max_results=1"

    with running(command, f"http://127.0.0.1:{port}/health", tmp_path / "mlflow.log"):
        status = {host: requests.get(url, headers={"Host": host}, timeout=30).status_code
                  for host in [*hosts, f"evil.example:{port}"]}

    assert status == {**dict.fromkeys(hosts, 200), f"evil.example:{port}": 403}
