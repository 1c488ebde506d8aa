"""Kill an inference worker under load: how soon MLServer replaces it and answers again.

Usage: uv run python bench/faults.py [--model-uri URI] [--workers 1 2] [--clients 4]
                                     [--before 5] [--after 20]
For each worker count: serve the model (as bench/load.py does), let ``--clients`` clients post
1-row requests without pause, SIGKILL one inference worker after ``--before`` seconds, go on for
``--after`` seconds and report the failed requests and the seconds from the kill to: the next
answer to a request asked after the kill, the replacement worker's start, and the replacement
being ready (MLServer logs it). With one worker the next answer can only come from the
replacement.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import requests
from load import DEFAULT_MODEL, machine, mlserver, post_once, request_body

POLL = 0.05


def client(url: str, body: bytes, stop: threading.Event, events: list) -> None:
    """Post until ``stop`` is set; append ``(asked, answered, failure)`` for each request."""
    with requests.Session() as session:
        while not stop.is_set():
            asked = time.monotonic()
            failure = post_once(session, url, body)
            events.append((asked, time.monotonic(), failure))


def wait_for_new_worker(server, old: set[int], deadline: float) -> tuple[float | None, ...]:
    """Return when a worker not in ``old`` started and when MLServer logged it ready.

    Either is None if it did not happen by ``deadline``.
    """
    started = ready = None
    while time.monotonic() < deadline and ready is None:
        new = set(server.worker_pids()) - old
        if new and started is None:
            started = time.monotonic()
        if new and f"New worker with PID {min(new)} " in server.log.read_text():
            ready = time.monotonic()
        time.sleep(POLL)
    return started, ready


def kill_one_worker(server, body: bytes, clients: int, before: float, after: float) -> dict:
    """Run the clients, kill a worker after ``before`` s, stop ``after`` s later; return figures."""
    stop, events = threading.Event(), []
    threads = [threading.Thread(target=client, args=(server.url, body, stop, events))
               for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(before)
    workers = server.worker_pids()
    victim = workers[0]
    killed = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    started, ready = wait_for_new_worker(server, set(workers), killed + after)
    time.sleep(max(0.0, killed + after - time.monotonic()))
    stop.set()
    for thread in threads:
        thread.join()
    answered_after = [done for asked, done, failure in events if asked >= killed and not failure]
    failures: dict[str, int] = {}
    for _, _, failure in events:
        if failure:
            failures[failure] = failures.get(failure, 0) + 1
    return {
        "victim": victim,
        "requests": len(events),
        "failures": failures,
        "next_answer": min(answered_after) - killed if answered_after else None,
        "started": started - killed if started else None,
        "ready": ready - killed if ready else None,
        "workers_after": len(server.worker_pids()),
    }


def seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "never"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-uri", default=DEFAULT_MODEL)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--before", type=float, default=5.0, help="seconds of load before")
    parser.add_argument("--after", type=float, default=20.0, help="seconds of load after")
    args = parser.parse_args()

    body = request_body(1)
    print(f"machine: {machine()}")
    for workers in args.workers:
        with tempfile.TemporaryDirectory(prefix="bench-faults-") as root, \
                mlserver(args.model_uri, workers, Path(root)) as server:
            found = kill_one_worker(server, body, args.clients, args.before, args.after)
        print(f"{workers} worker(s), {args.clients} clients: killed pid {found['victim']}; "
              f"next answer {seconds(found['next_answer'])} after the kill, replacement "
              f"started after {seconds(found['started'])} and ready after "
              f"{seconds(found['ready'])}, {found['workers_after']} worker(s) "
              f"at the end; {found['requests']} requests, failed: {found['failures'] or 0}")
    print(f"machine after: {machine()}")


if __name__ == "__main__":
    main()
