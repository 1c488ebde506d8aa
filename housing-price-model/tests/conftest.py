"""Shared fixtures: data folders, a real MLflow tracking server and a seed model trained once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from servers import mlflow_server
from synthetic import write_kaggle_files

REAL_FILES = ("train.csv", "test.csv")

# The tracking servers the tests start need no server-side jobs (GenAI evaluation, trace
# roll-ups); without them each server is one process instead of about ten.
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real Kaggle folder from ``$HOUSE_PRICES_DATA_DIR``; skip the test without it."""
    folder = os.environ.get("HOUSE_PRICES_DATA_DIR")
    if not folder or not all((Path(folder) / name).is_file() for name in REAL_FILES):
        pytest.skip("real data absent: set HOUSE_PRICES_DATA_DIR to the Kaggle files")
    return Path(folder)


@pytest.fixture(scope="session")
def synthetic_data_dir(tmp_path_factory) -> Path:
    """A folder with Kaggle-schema ``train.csv`` and ``test.csv`` made by ``synthetic.py``."""
    return write_kaggle_files(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory):
    """URI of a real ``mlflow server`` on a free port, shared by the session's tests."""
    import mlflow

    previous = os.environ.get("MLFLOW_TRACKING_URI")
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as uri:
        os.environ["MLFLOW_TRACKING_URI"] = uri
        mlflow.set_tracking_uri(uri)
        yield uri
    if previous is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = previous


@pytest.fixture(scope="session")
def seed_run(tracking_uri, real_data_dir):
    """The seed model trained on the real data, logged and registered as champion once.

    Returns ``(TrainingResult, LoggedRun)``.
    """
    from house_price.data import load_train
    from house_price.tracking import log_training
    from house_price.train import train_model

    train = load_train(real_data_dir)
    result = train_model(train, "seed")
    logged = log_training(result, train, register=True,
                          data_source=str(real_data_dir / "train.csv"))
    return result, logged


@pytest.fixture(scope="session")
def model_server(seed_run, tmp_path_factory):
    """``house-price serve`` of the seed champion on free ports, started once per session.

    Yields a ``served.ServedModel`` (url, grpc_port, metrics_url, kept context, log).
    """
    from served import seed_version_uri, serving

    with serving(seed_version_uri(seed_run), tmp_path_factory.mktemp("serve")) as served:
        yield served


@pytest.fixture(scope="session")
def built_context(seed_run, tmp_path_factory) -> Path:
    """The build context ``model-build.sh --no-build`` writes for the seed champion."""
    from served import model_build, seed_version_uri

    context = tmp_path_factory.mktemp("build") / "build"
    done = model_build("--no-build", "--context", str(context), seed_version_uri(seed_run),
                       "house-price-model:test")
    assert done.returncode == 0, done.stderr
    return context
