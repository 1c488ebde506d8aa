"""The main job in one command: tracking server, seed model, champion alias, model server."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from house_price.errors import TrackingServerUnavailable, UserError
from house_price.tracking import ensure_server

log = logging.getLogger(__name__)

START_SCRIPT = Path(__file__).resolve().parents[3] / "mlflow-server" / "start-mlflow.sh"
LOOPBACK = {"127.0.0.1", "localhost"}


def ensure_tracking_server(uri: str, timeout: float = 120) -> bool:
    """Start ``start-mlflow.sh`` in the background unless a server answers at ``uri``.

    Returns whether a server was started. It keeps running after this process ends; its
    output goes to ``mlflow-server/mlflow-server.log``.

    Raises:
        UserError: ``uri`` is not a loopback HTTP address (nothing to start here), or the
            server did not come up; the message points at its log.
    """
    try:
        ensure_server(uri, timeout=2)
        return False
    except TrackingServerUnavailable:
        pass
    parsed = urlparse(uri)
    if parsed.hostname not in LOOPBACK or not START_SCRIPT.is_file():
        raise UserError(f"no tracking server answers at {uri} and none can be started from "
                        "here: start yours, or unset MLFLOW_TRACKING_URI to use a local one")

    log_path = START_SCRIPT.with_name("mlflow-server.log")
    env = {**os.environ, "MLFLOW_HOST": parsed.hostname, "MLFLOW_PORT": str(parsed.port or 80)}
    log.info("Starting the tracking server on %s (log: %s)", uri, log_path)
    with log_path.open("ab") as out:
        subprocess.Popen([str(START_SCRIPT)], stdout=out, stderr=subprocess.STDOUT, env=env,
                         start_new_session=True)
    _wait_until_up(uri, timeout, log_path)
    return True


def _wait_until_up(uri: str, timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ensure_server(uri, timeout=2)
            return
        except TrackingServerUnavailable:
            time.sleep(1)
    raise UserError(f"the tracking server did not answer at {uri} within {timeout:.0f} s; "
                    f"see {log_path}")
