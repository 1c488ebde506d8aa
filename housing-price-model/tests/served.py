"""Run ``house-price serve`` and ``model-build.sh`` for the tests, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from servers import free_port, running

DEPLOYMENT = Path(__file__).resolve().parents[1] / "deployment"
MODEL_BUILD = DEPLOYMENT / "model-build.sh"


@dataclass(frozen=True)
class Outcome:
    """What a CLI run returned and printed."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(capsys, *args: str) -> Outcome:
    """Run ``house-price ARGS`` in this process: its parsing, handler and error printing."""
    from house_price import cli

    try:
        code = cli.main(list(args))
    except SystemExit as exit_:  # argparse refusing the arguments
        code = exit_.code
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


@dataclass(frozen=True)
class ServedModel:
    """A running ``house-price serve``: its addresses, its kept build context and its log."""

    url: str
    grpc_port: int
    metrics_url: str
    context: Path
    log: Path


def seed_version_uri(seed_run) -> str:
    """Return ``models:/house-price-model/VERSION`` of the seed: other tests move the alias."""
    return f"models:/house-price-model/{seed_run[1].version}"


def distinct_free_ports(count: int) -> list[int]:
    """Return ``count`` different free ports on 127.0.0.1."""
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


@contextmanager
def serving(model_uri: str, root: Path, timeout: float = 300):
    """Run ``house-price serve MODEL_URI`` on free ports with its context kept under ``root``.

    Yields a ``ServedModel`` once ``/v2/health/ready`` answers 200.
    """
    http, grpc, metrics = distinct_free_ports(3)
    context = root / "context"
    command = [
        sys.executable, "-m", "house_price.cli", "serve", model_uri,
        "--http-port", str(http), "--grpc-port", str(grpc), "--metrics-port", str(metrics),
        "--context", str(context),
    ]
    url = f"http://127.0.0.1:{http}"
    log = root / "serve.log"
    with running(command, f"{url}/v2/health/ready", log, timeout=timeout):
        yield ServedModel(url, grpc, f"http://127.0.0.1:{metrics}", context, log)


def model_build(*args: str, env: dict | None = None, timeout: float = 300):
    """Run ``model-build.sh`` with ``args`` and return the completed process."""
    # The script runs `python`: make it this interpreter, whatever PATH the tests got.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return subprocess.run(
        ["bash", str(MODEL_BUILD), *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PATH": path, **(env or {})},
    )


def differing_files(left: Path, right: Path, ignore: tuple[str, ...] = ()) -> list[str]:
    """Return the relative paths present in one tree only or with different bytes."""
    def files(root: Path) -> dict[str, Path]:
        return {str(p.relative_to(root)): p for p in root.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}

    ours, theirs = files(left), files(right)
    names = (set(ours) | set(theirs)) - set(ignore)
    return sorted(name for name in names if name not in ours or name not in theirs
                  or ours[name].read_bytes() != theirs[name].read_bytes())
