"""Serving speed: our MLServer against MLflow's scoring server on one model, in-process as floor.

Usage: uv run python bench/serving.py [--model-uri URI] [--workers 1] [--requests 200]
                                      [--output FILE]
Downloads the model once, then, one server at a time on free loopback ports:
  * MLServer on the build context ``house-price serve`` writes (``mlserver start``);
  * ``mlflow models serve --env-manager local`` on the same model folder;
and for each: cold start (process start to ready), p50/p99 of sequential 1-row and 100-row
``dataframe_split`` requests (the raw test.csv, HOUSE_PRICES_DATA_DIR), and requests/s of 1-row
requests at 1, 4 and 8 concurrent clients. In-process ``predict`` of the same rows is the floor.
Every loop is bounded by ``--requests``. Prints a Markdown table and writes the figures as JSON
(default bench/results/serving-<time>.json). CPUs shared with other work change every figure:
the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pandas as pd
import requests
from load import free_ports, machine, percentile_ms, run_clients

from house_price.client import to_dataframe_split
from house_price.context import ServerSettings, download_model, write_context
from house_price.data import as_model_input, data_dir
from house_price.serve import mlserver_command

DEFAULT_MODEL = "models:/house-price-model@champion"
CLIENTS = (1, 4, 8)
RESULTS = Path(__file__).resolve().parent / "results"


def body(frame: pd.DataFrame) -> bytes:
    """Return ``frame`` as the ``dataframe_split`` JSON a client sends."""
    return json.dumps(to_dataframe_split(frame), allow_nan=False).encode()


def summary_ms(seconds: list[float]) -> dict:
    """Return p50 and p99 of ``seconds`` in milliseconds."""
    return {"p50_ms": round(percentile_ms(seconds, 0.5), 1),
            "p99_ms": round(percentile_ms(seconds, 0.99), 1)}


def in_process(model_dir: Path, frames: dict[str, pd.DataFrame], count: int) -> dict:
    """Time ``predict`` of each frame ``count`` times with the model loaded here."""
    import mlflow

    from house_price.trust import allow_skops_load

    with allow_skops_load():
        model = mlflow.pyfunc.load_model(str(model_dir))
    figures = {}
    for name, frame in frames.items():
        rows = as_model_input(frame)
        model.predict(rows)  # warm-up
        times = []
        for _ in range(count):
            started = time.perf_counter()
            model.predict(rows)
            times.append(time.perf_counter() - started)
        figures[name] = summary_ms(times)
    return figures


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 300) -> float:
    """Poll ``url`` until it answers 200; return the seconds since ``process`` started."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout} s:\n{log.read_text()[-3000:]}")


@contextmanager
def started(command: list[str], ready_url: str, log: Path, cwd: Path, env: dict):
    """Run ``command`` in its own session; yield its cold start in seconds once ready."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield wait_ready(ready_url, process, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def mlserver_server(model_dir: Path, workers: int, root: Path):
    """Start MLServer on the build context of ``model_dir``; return (context manager, url)."""
    http, grpc, metrics = free_ports(3)
    settings = ServerSettings(host="127.0.0.1", http_port=http, grpc_port=grpc,
                              metrics_port=metrics, parallel_workers=workers)
    context = write_context(str(model_dir), root / "context", settings)
    env = {**os.environ, "MLSERVER_METRICS_DIR": str(root / "metrics")}
    url = f"http://127.0.0.1:{http}"
    return started(mlserver_command(context), f"{url}/v2/health/ready", root / "mlserver.log",
                   context, env), url


def mlflow_server(model_dir: Path, workers: int, root: Path):
    """Start ``mlflow models serve`` on ``model_dir``; return (context manager, url)."""
    [port] = free_ports(1)
    command = [str(Path(sys.executable).with_name("mlflow")), "models", "serve",
               "-m", str(model_dir), "--env-manager", "local", "-h", "127.0.0.1",
               "-p", str(port), "-w", str(workers)]
    # MLflow's own server has no trusted-type check; the flag is set for it alone, here.
    env = {**os.environ, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}
    url = f"http://127.0.0.1:{port}"
    return started(command, f"{url}/ping", root / "mlflow.log", root, env), url


def sequential(url: str, payload: bytes, count: int) -> dict:
    """Post ``payload`` ``count`` times, one after another; return latency percentiles."""
    times = []
    with requests.Session() as session:
        for _ in range(count):
            begun = time.perf_counter()
            response = session.post(f"{url}/invocations", data=payload, timeout=60,
                                    headers={"Content-Type": "application/json"})
            times.append(time.perf_counter() - begun)
            response.raise_for_status()
    return summary_ms(times)


def measure(server, url: str, bodies: dict[str, bytes], count: int) -> dict:
    """Cold start, sequential latencies and concurrent throughput of one server."""
    with server as cold:
        sequential(url, bodies["1 row"], 20)  # warm-up
        figures = {"cold_start_s": round(cold, 1)}
        figures["latency"] = {"1 row": sequential(url, bodies["1 row"], count),
                              "100 rows": sequential(url, bodies["100 rows"], max(count // 4, 20))}
        figures["throughput"] = {}
        for clients in CLIENTS:
            tally, seconds = run_clients(url, bodies["1 row"], clients, max(count // clients, 25))
            figures["throughput"][clients] = {
                "requests_per_s": round(len(tally.latencies) / seconds, 1),
                "errors": tally.errors, **summary_ms(tally.latencies)}
    return figures


def table(results: dict) -> str:
    """Return the figures as a Markdown table."""
    floor = results["in_process"]
    lines = ["| | cold start | 1 row p50 / p99 | 100 rows p50 / p99 | req/s at 1 / 4 / 8 clients |",
             "|---|---|---|---|---|",
             f"| in-process predict | - | {floor['1 row']['p50_ms']} / "
             f"{floor['1 row']['p99_ms']} ms | {floor['100 rows']['p50_ms']} / "
             f"{floor['100 rows']['p99_ms']} ms | - |"]
    for name in ("mlserver", "mlflow"):
        server = results[name]
        one, hundred = server["latency"]["1 row"], server["latency"]["100 rows"]
        rates = " / ".join(str(server["throughput"][c]["requests_per_s"]) for c in CLIENTS)
        label = {"mlserver": "our MLServer", "mlflow": "mlflow models serve"}[name]
        lines.append(f"| {label} | {server['cold_start_s']} s | {one['p50_ms']} / "
                     f"{one['p99_ms']} ms | {hundred['p50_ms']} / {hundred['p99_ms']} ms | "
                     f"{rates} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-uri", default=DEFAULT_MODEL)
    parser.add_argument("--workers", type=int, default=1,
                        help="inference workers of each server (default: 1)")
    parser.add_argument("--requests", type=int, default=200,
                        help="sequential 1-row requests; other loops are sized from it")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    raw = pd.read_csv(data_dir() / "test.csv")
    frames = {"1 row": raw.head(1), "100 rows": raw.head(100)}
    bodies = {name: body(frame) for name, frame in frames.items()}
    results = {"model_uri": args.model_uri, "workers": args.workers,
               "machine_before": machine()}
    print(f"machine: {results['machine_before']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as scratch:
        root = Path(scratch)
        model_dir = download_model(args.model_uri, root / "model")
        results["in_process"] = in_process(model_dir, frames, args.requests)
        for name, start in (("mlserver", mlserver_server), ("mlflow", mlflow_server)):
            (root / name).mkdir()
            server, url = start(model_dir, args.workers, root / name)
            results[name] = measure(server, url, bodies, args.requests)
            print(f"{name}: {json.dumps(results[name])}", flush=True)
    results["machine_after"] = machine()
    output = args.output or RESULTS / f"serving-{datetime.now():%Y%m%d-%H%M%S}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"machine after: {results['machine_after']}; figures in {output}")


if __name__ == "__main__":
    main()
