"""Load the model server: C clients x N requests; errors, latency and resident memory growth.

Usage: uv run python bench/load.py [--model-uri URI] [--clients 8] [--requests 1000]
                                   [--rows 1] [--workers 2] [--no-fast-predict]
Writes the model's build context to a temporary folder and serves it with ``mlserver start`` on
free loopback ports (what ``house-price serve`` runs). Each client posts the first ``--rows``
rows of the raw test.csv (HOUSE_PRICES_DATA_DIR) as ``dataframe_split``. Memory is the resident
set of MLServer and its workers, after a warm-up and again after the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import requests

from house_price.client import to_dataframe_split
from house_price.context import ServerSettings, write_context
from house_price.data import data_dir

DEFAULT_MODEL = "models:/house-price-model@champion"
JSON = {"Content-Type": "application/json"}


@dataclass
class Server:
    """A running ``mlserver start``: its process, address and log."""

    process: subprocess.Popen
    url: str
    log: Path

    def worker_pids(self) -> list[int]:
        """Return the pids of the inference workers (MLServer spawns them)."""
        return [pid for pid in descendants(self.process.pid)
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def rss_mb(self) -> float:
        """Return the resident memory of MLServer and all its processes, in MB."""
        return sum(rss_kb(pid) for pid in [self.process.pid, *descendants(self.process.pid)]) / 1024


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct ports nothing listens on at 127.0.0.1."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def descendants(pid: int) -> list[int]:
    """Return the pids of every process below ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def rss_kb(pid: int) -> int:
    """Return the resident set of ``pid`` in kB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@contextmanager
def mlserver(model_uri: str, workers: int, root: Path, timeout: float = 300,
             fast_predict: bool = True):
    """Serve ``model_uri`` with ``workers`` inference workers; yield a ``Server`` when ready.

    ``fast_predict=False`` makes the runtime predict through MLflow's pyfunc.
    """
    http, grpc, metrics = free_ports(3)
    settings = ServerSettings(host="127.0.0.1", http_port=http, grpc_port=grpc,
                              metrics_port=metrics, parallel_workers=workers)
    context = write_context(model_uri, root / "context", settings)
    if not fast_predict:
        path = next(context.rglob("model-settings.json"))
        document = json.loads(path.read_text())
        document["parameters"]["extra"]["fast_predict"] = False
        path.write_text(json.dumps(document))
    log = root / "mlserver.log"
    mlserver_bin = Path(sys.executable).with_name("mlserver")
    with log.open("wb") as out:
        process = subprocess.Popen([str(mlserver_bin), "start", str(context)], cwd=context,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{http}", log)
    try:
        wait_ready(server, timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(server: Server, timeout: float) -> float:
    """Poll readiness until it answers 200; return the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.process.poll() is not None:
            raise RuntimeError(f"MLServer exited:\n{server.log.read_text()[-3000:]}")
        try:
            if requests.get(f"{server.url}/v2/health/ready", timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"MLServer not ready after {timeout} s:\n{server.log.read_text()[-3000:]}")


def request_body(rows: int) -> bytes:
    """Return the first ``rows`` rows of the raw test.csv as a ``dataframe_split`` body."""
    raw = pd.read_csv(data_dir() / "test.csv").head(rows)
    return json.dumps(to_dataframe_split(raw), allow_nan=False).encode()


@dataclass
class Tally:
    """What the clients saw: latencies of answered requests, and failures by kind."""

    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float, failure: str | None) -> None:
        with self.lock:
            if failure:
                self.failures[failure] = self.failures.get(failure, 0) + 1
            else:
                self.latencies.append(seconds)

    @property
    def errors(self) -> int:
        return sum(self.failures.values())


def post_once(session: requests.Session, url: str, body: bytes) -> str | None:
    """Post ``body``; return None on a 200, else what went wrong."""
    try:
        response = session.post(f"{url}/invocations", data=body, headers=JSON, timeout=30)
    except requests.RequestException as error:
        return type(error).__name__
    return None if response.status_code == 200 else f"HTTP {response.status_code}"


def client(url: str, body: bytes, tally: Tally, count: int | None,
           stop: threading.Event | None = None) -> None:
    """Post ``count`` requests (or until ``stop`` is set), recording each in ``tally``."""
    with requests.Session() as session:
        done = 0
        while (count is None or done < count) and not (stop and stop.is_set()):
            started = time.perf_counter()
            failure = post_once(session, url, body)
            tally.record(time.perf_counter() - started, failure)
            done += 1


def run_clients(url: str, body: bytes, clients: int, count: int) -> tuple[Tally, float]:
    """Run ``clients`` threads of ``count`` requests each; return the tally and wall seconds."""
    tally = Tally()
    threads = [threading.Thread(target=client, args=(url, body, tally, count))
               for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - started


def percentile_ms(values: list[float], share: float) -> float:
    """Return the ``share`` quantile of ``values`` (seconds) in milliseconds."""
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1] * 1000


def machine() -> str:
    """Describe the machine and its load, which shared CPUs make part of every figure."""
    return f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-uri", default=DEFAULT_MODEL)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=1000, help="per client")
    parser.add_argument("--rows", type=int, default=1, help="rows per request")
    parser.add_argument("--workers", type=int, default=ServerSettings.parallel_workers)
    parser.add_argument("--no-fast-predict", dest="fast_predict", action="store_false",
                        help="predict through MLflow's pyfunc, not the compiled pipeline")
    args = parser.parse_args()

    body = request_body(args.rows)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as root, \
            mlserver(args.model_uri, args.workers, Path(root),
                     fast_predict=args.fast_predict) as server:
        run_clients(server.url, body, args.clients, 50)  # warm-up, not counted
        before = server.rss_mb()
        tally, seconds = run_clients(server.url, body, args.clients, args.requests)
        after = server.rss_mb()
        workers = len(server.worker_pids())
    total = args.clients * args.requests
    path = "compiled pipeline" if args.fast_predict else "MLflow pyfunc"
    print(f"model: {args.model_uri}, {workers} inference workers, {args.rows}-row requests, "
          f"predicting with the {path}")
    print(f"requests: {total} ({args.clients} clients x {args.requests}), "
          f"errors: {tally.errors} {tally.failures or ''}")
    print(f"throughput: {len(tally.latencies) / seconds:.1f} requests/s over {seconds:.1f} s")
    print(f"latency: p50 {percentile_ms(tally.latencies, 0.5):.1f} ms, "
          f"p99 {percentile_ms(tally.latencies, 0.99):.1f} ms")
    print(f"resident memory: {before:.0f} MB after warm-up, {after:.0f} MB after the load "
          f"({(after - before) / before * 100:+.1f}%)")
    print(f"machine after: {machine()}")


if __name__ == "__main__":
    main()
