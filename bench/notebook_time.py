"""Time a headless execution of the training notebook, kernel start included.

Usage: uv run python bench/notebook_time.py [--repeats N] [--tracking-uri URI]
Needs the real data (HOUSE_PRICES_DATA_DIR). Without --tracking-uri it starts its own MLflow
server on a free port, with a throw-away store. Prints the wall time of each execution, their
median, the slowest cells of the last one, and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

# The tests' helpers execute the notebook and start MLflow; the benchmark times the same path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "housing-price-model" / "tests"))

from run_notebook import execute, read_notebook
from servers import mlflow_server


def cell_seconds(cell) -> float:
    """Return how long the kernel spent on ``cell``, from nbclient's timing metadata."""
    timing = cell.metadata.get("execution", {})
    started, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (started and ended):
        return 0.0
    return (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()


def time_once(uri: str) -> tuple[float, list[tuple[float, str]]]:
    """Execute the notebook once; return the wall time and ``(seconds, first line)`` per cell."""
    started = time.perf_counter()
    notebook = execute(read_notebook(), {"MLFLOW_TRACKING_URI": uri})
    wall = time.perf_counter() - started
    cells = [(cell_seconds(cell), cell.source.splitlines()[0])
             for cell in notebook.cells if cell.cell_type == "code"]
    return wall, cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tracking-uri", help="use this server instead of starting one")
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as store:
        server = nullcontext(args.tracking_uri) if args.tracking_uri else mlflow_server(
            Path(store))
        with server as uri:
            runs = [time_once(uri) for _ in range(args.repeats)]
    load_after = os.getloadavg()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load (1/5/15 min) "
          f"before {'/'.join(f'{x:.2f}' for x in load_before)}, "
          f"after {'/'.join(f'{x:.2f}' for x in load_after)}")
    walls = [wall for wall, _ in runs]
    print(f"executions: {', '.join(f'{wall:.1f} s' for wall in walls)}")
    print(f"headless execution (median of {len(walls)}): {statistics.median(walls):.1f} s")
    print("slowest cells of the last execution:")
    for seconds, first_line in sorted(runs[-1][1], reverse=True)[:4]:
        print(f"  {seconds:5.1f} s  {first_line}")


if __name__ == "__main__":
    main()
