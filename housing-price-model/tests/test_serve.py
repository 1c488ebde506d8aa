"""``house-price serve`` against a real MLServer process: the raw test set, endpoints, the CLI."""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from house_price.client import to_dataframe_split
from house_price.data import load_test
from house_price.trust import load_pyfunc

from served import (
    DEPLOYMENT,
    differing_files,
    distinct_free_ports,
    run_cli,
    seed_version_uri,
)

TUTORIAL_FIRST_FIVE = [128528.33, 154789.5, 179432.35, 187597.95, 204727.06]
JSON = {"Content-Type": "application/json"}


def house_price(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the CLI in a subprocess and return the completed process."""
    return subprocess.run([sys.executable, "-m", "house_price.cli", *args],
                          capture_output=True, text=True, timeout=timeout)


def listening_addresses(port: int) -> set[str]:
    """Return the local addresses a TCP socket listens on at ``port``, from /proc.

    IPv4-mapped IPv6 addresses (gRPC listens on ``::ffff:127.0.0.1``) come back as IPv4.
    """
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            hex_address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(hex_address)  # /proc writes each 32-bit word little-endian
            packed = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            address = ipaddress.ip_address(socket.inet_ntop(family, packed))
            found.add(str(getattr(address, "ipv4_mapped", None) or address))
    return found


@pytest.mark.slow
def test_whole_raw_test_csv_is_served_exactly_as_predicted_in_process(
        model_server, seed_run, real_data_dir):
    raw = pd.read_csv(real_data_dir / "test.csv")  # Id, dropped columns, ints and NaN as is
    body = json.dumps(to_dataframe_split(raw), allow_nan=False)  # NaN must travel as null

    response = requests.post(f"{model_server.url}/invocations", data=body, headers=JSON,
                             timeout=120)

    assert response.status_code == 200, response.text[:500]
    served = np.asarray(response.json()["predictions"])
    expected = load_pyfunc(seed_version_uri(seed_run)).predict(load_test(real_data_dir))
    assert len(served) == len(raw) == 1459
    assert np.abs(served - expected).max() < 1e-6
    np.testing.assert_allclose(np.round(served[:5], 2), TUTORIAL_FIRST_FIVE)


@pytest.mark.slow
def test_liveness_readiness_model_and_metrics_endpoints_answer(model_server):
    url = model_server.url
    for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/house-price-model/ready",
                 "/ping", "/health"):
        assert requests.get(url + path, timeout=10).status_code == 200, path
    metadata = requests.get(f"{url}/v2/models/house-price-model", timeout=10).json()
    metrics = requests.get(f"{model_server.metrics_url}/metrics", timeout=10)

    assert metadata["name"] == "house-price-model"
    assert "LotArea" in {tensor["name"] for tensor in metadata["inputs"]}
    assert metrics.status_code == 200
    assert 'rest_server_requests_total{app_name="mlserver",method="GET",' \
           'path="/v2/models/{model_name}",status_code="200"}' in metrics.text


@pytest.mark.slow
def test_grpc_server_reports_ready(model_server):
    import grpc
    from mlserver.grpc import dataplane_pb2, dataplane_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{model_server.grpc_port}") as channel:
        stub = dataplane_pb2_grpc.GRPCInferenceServiceStub(channel)
        ready = stub.ServerReady(dataplane_pb2.ServerReadyRequest(), timeout=10)

    assert ready.ready


@pytest.mark.slow
def test_every_listener_is_on_loopback_only(model_server):
    ports = [int(model_server.url.rsplit(":", 1)[1]), model_server.grpc_port,
             int(model_server.metrics_url.rsplit(":", 1)[1])]

    assert [listening_addresses(port) for port in ports] == [{"127.0.0.1"}] * 3


@pytest.mark.slow
def test_served_context_is_the_built_one_but_for_addresses(model_server, built_context):
    differences = differing_files(model_server.context, built_context)

    assert differences == ["Dockerfile", "settings.json"]
    served = (model_server.context / "Dockerfile").read_text()
    built = (built_context / "Dockerfile").read_text()
    assert re.sub(r"\d{4,5}", "PORT", served) == re.sub(r"\d{4,5}", "PORT", built)


@pytest.mark.slow
def test_serve_prints_a_curl_example_that_works(model_server):
    line = next(line for line in model_server.log.read_text().splitlines()
                if line.strip().startswith("curl "))

    done = subprocess.run(shlex.split(line), capture_output=True, text=True, timeout=60)

    assert len(json.loads(done.stdout)["predictions"]) == 5


@pytest.mark.slow
def test_bruno_example_request_gets_one_price(model_server):
    text = (DEPLOYMENT / "bruno" / "predict-one-house.bru").read_text()
    body = re.search(r"^body:json \{\n(.*?)^\}$", text, re.S | re.M).group(1)

    response = requests.post(f"{model_server.url}/invocations", data=body, headers=JSON,
                             timeout=30)

    assert response.status_code == 200, response.text
    [price] = response.json()["predictions"]
    assert 50_000 < price < 500_000


@pytest.mark.slow
def test_predict_writes_the_same_submission_through_the_server_and_in_process(
        model_server, seed_run, real_data_dir, tmp_path):
    test_csv = real_data_dir / "test.csv"
    served = house_price("-q", "predict", "--url", model_server.url, "--input", str(test_csv),
                         "--output", str(tmp_path / "served.csv"))
    local = house_price("-q", "predict", "--model-uri", seed_version_uri(seed_run),
                        "--input", str(test_csv), "--output", str(tmp_path / "local.csv"))

    assert served.returncode == local.returncode == 0, served.stderr + local.stderr
    by_server = pd.read_csv(tmp_path / "served.csv")
    in_process = pd.read_csv(tmp_path / "local.csv")
    assert list(by_server.columns) == ["Id", "SalePrice"]
    assert by_server["Id"].tolist() == pd.read_csv(test_csv)["Id"].tolist()
    assert np.abs(by_server["SalePrice"] - in_process["SalePrice"]).max() < 1e-6


def test_serve_refuses_a_taken_port_before_doing_anything(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        grpc, metrics = distinct_free_ports(2)

        done = run_cli(capsys, "serve", "models:/house-price-model@champion",
                       "--http-port", str(port), "--grpc-port", str(grpc),
                       "--metrics-port", str(metrics))

    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "--http-port" in done.stderr


@pytest.mark.slow
def test_serve_of_an_unknown_model_is_one_clear_line(tracking_uri, capsys):
    http, grpc, metrics = distinct_free_ports(3)

    done = run_cli(capsys, "serve", "models:/no-such-model@champion", "--http-port", str(http),
                   "--grpc-port", str(grpc), "--metrics-port", str(metrics))

    assert done.returncode == 1
    [line] = [line for line in done.stderr.splitlines() if "error" in line]
    assert line.startswith("house-price: error: cannot get model 'models:/no-such-model@")
    assert "models:/NAME@ALIAS" in line
