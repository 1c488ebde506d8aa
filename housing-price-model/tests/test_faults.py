"""Tracking-server faults: a restart loses nothing; training without the server registers nothing.

One store (SQLite and artifacts in a folder) goes through the faults once, in a module fixture
(each start of a real ``mlflow server`` costs seconds); the tests check what it went through.
"""

from __future__ import annotations

import contextlib
import io
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from house_price import cli
from house_price.data import as_model_input, load_train
from house_price.tracking import CHAMPION, REGISTERED_MODEL, LoggedRun, log_training
from house_price.train import train_model
from house_price.trust import load_pyfunc

from servers import free_port, mlflow_command, running, stop

pytestmark = pytest.mark.slow


@dataclass
class History:
    """What happened to one store: a champion logged, training refused, a run cut short.

    Filled once for the module: a real ``mlflow server`` logs the champion, then dies while a
    second run is logged; training is tried with no server; ``after`` holds what a new server
    on the same folder and port serves.
    """

    logged: LoggedRun
    metrics: dict
    predictions: np.ndarray
    down_code: int = 0
    down_stderr: str = ""
    down_log: str = ""
    mid_run_error: Exception | None = None
    after: dict = field(default_factory=dict)


@contextmanager
def tracking_at(uri: str):
    """Point MLflow (library and environment) at ``uri`` inside the block only."""
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        mlflow.set_tracking_uri(uri)
        try:
            yield
        finally:
            mlflow.set_tracking_uri(previous)


@pytest.fixture(scope="module")
def history(tmp_path_factory, synthetic_data_dir) -> History:
    root, port = tmp_path_factory.mktemp("tracking-store"), free_port()
    uri = f"http://127.0.0.1:{port}"
    train = load_train(synthetic_data_dir)
    result = train_model(train, "seed")
    rows = as_model_input(result.X_valid.head(20))
    with running(mlflow_command(root, port), f"{uri}/health", root / "first.log") as server, \
            tracking_at(uri):
        logged = log_training(result, train, register=True)
        predictions = load_pyfunc(logged.registered_uri).predict(rows)
        found = History(logged, result.metrics, predictions)
        found.mid_run_error = log_while_server_dies(server, result, train)
    with tracking_at(uri):  # nothing listens there now
        train_with_server_down(found, synthetic_data_dir)
    with running(mlflow_command(root, port), f"{uri}/health", root / "second.log"), \
            tracking_at(uri):
        found.after = what_the_server_holds(logged, rows)
    return found


def train_with_server_down(found: History, data_dir: Path) -> None:
    """Run ``house-price train --register`` in process; keep its exit code, stderr and log."""
    capture = io.StringIO()
    handler = logging.StreamHandler(capture)
    package = logging.getLogger("house_price")
    package.addHandler(handler)
    level = package.level
    package.setLevel(logging.INFO)
    try:
        with contextlib.redirect_stderr(io.StringIO()) as stderr:
            found.down_code = cli.main(["train", "--data", str(data_dir), "--register"])
    finally:
        package.removeHandler(handler)
        package.setLevel(level)
    found.down_stderr, found.down_log = stderr.getvalue(), capture.getvalue()


def log_while_server_dies(server, result, train) -> Exception | None:
    """Log and register a run, the server being stopped just before the model is logged."""
    real_log_model = mlflow.sklearn.log_model

    def log_model_as_server_dies(*args, **kwargs):
        stop(server)  # the run, its metrics and figure are logged by now
        return real_log_model(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        # Fail on the first refused connection instead of after MLflow's minutes of retries.
        patch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        patch.setattr(mlflow.sklearn, "log_model", log_model_as_server_dies)
        try:
            log_training(result, train, register=True)
        except Exception as error:
            return error
    return None


def what_the_server_holds(logged: LoggedRun, rows: pd.DataFrame) -> dict:
    client = mlflow.MlflowClient()
    uris = [logged.registered_uri, logged.model_uri, f"runs:/{logged.run_id}/model",
            f"models:/{REGISTERED_MODEL}/{logged.version}"]
    versions = client.search_model_versions(f"name = '{REGISTERED_MODEL}'")
    return {
        "run": client.get_run(logged.run_id),
        "runs": client.search_runs([logged.experiment_id]),
        "champion": client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION),
        "versions": sorted(version.version for version in versions),
        "predictions": {uri: load_pyfunc(uri).predict(rows) for uri in uris},
    }


def test_restarted_server_keeps_run_version_alias_and_model_uris(history):
    after, logged = history.after, history.logged

    assert after["run"].info.status == "FINISHED"
    assert after["run"].data.metrics["RMSE"] == pytest.approx(history.metrics["RMSE"])
    assert after["champion"].version == logged.version
    assert after["champion"].run_id == logged.run_id
    assert len(after["predictions"]) == 4
    for predicted in after["predictions"].values():
        np.testing.assert_allclose(predicted, history.predictions, rtol=0, atol=1e-6)


def test_training_with_server_down_stops_before_training_with_a_clear_message(history):
    assert history.down_code == 1
    assert "no MLflow tracking server answers at http://127.0.0.1:" in history.down_stderr
    assert "start-mlflow.sh" in history.down_stderr
    assert "Checking the tracking server" in history.down_log
    assert "Training" not in history.down_log


def test_server_dying_mid_run_fails_the_run_and_registers_nothing(history):
    after = history.after

    assert isinstance(history.mid_run_error, MlflowException)
    assert after["versions"] == [history.logged.version]
    assert after["champion"].version == history.logged.version
    assert sorted(run.info.status for run in after["runs"]) == ["FINISHED", "RUNNING"]
