"""Log a training run to MLflow: parameters, metrics, figure, dataset, model, registry alias."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib.metadata import version
from urllib.parse import urlparse

import mlflow
import pandas as pd
import requests
from mlflow.models import infer_signature

from house_price.data import as_model_input
from house_price.errors import TrackingServerUnavailable
from house_price.plots import actual_vs_predicted
from house_price.train import TrainingResult
from house_price.trust import trusted_types_for

log = logging.getLogger(__name__)

DEFAULT_TRACKING_URI = "http://127.0.0.1:9999"
DEFAULT_EXPERIMENT = "Housing Price Prediction"
REGISTERED_MODEL = "house-price-model"
CHAMPION = "champion"
MODEL_NAME = "model"
# What prediction needs, pinned to the versions that trained the model. MLflow adds itself.
# Listed by hand because inside a uv project MLflow would export every workspace dependency.
SERVING_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy", "skops")


@dataclass(frozen=True)
class LoggedRun:
    """Where a training run went."""

    run_id: str
    model_uri: str
    experiment_id: str
    registered_uri: str | None = None
    version: str | None = None


def tracking_uri() -> str:
    """Return ``$MLFLOW_TRACKING_URI`` or the local server started by ``start-mlflow.sh``."""
    return os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI)


def ensure_server(uri: str, timeout: float = 3.0, during: str = "") -> None:
    """Fail fast when an HTTP tracking server does not answer.

    ``during`` says what was under way, for a server that stopped in the middle of the work.

    Raises:
        TrackingServerUnavailable: the message says how to start one.
    """
    if urlparse(uri).scheme not in ("http", "https"):
        return
    try:
        requests.get(f"{uri.rstrip('/')}/health", timeout=timeout).raise_for_status()
    except requests.RequestException as error:
        when = f" (it stopped answering {during})" if during else ""
        raise TrackingServerUnavailable(
            f"no MLflow tracking server answers at {uri}{when} ({type(error).__name__}): start "
            "one with mlflow-server/start-mlflow.sh, or point MLFLOW_TRACKING_URI at yours"
        ) from None


def pip_requirements(extra: tuple[str, ...] = ()) -> list[str]:
    """Pin the packages prediction needs to their installed versions."""
    return [f"{name}=={version(name)}" for name in (*SERVING_PACKAGES, *extra)]


def model_signature(X: pd.DataFrame, y_pred):
    """Infer the signature from ``X`` with every numeric column typed ``double``.

    ``double`` rather than ``long``: clients send nulls in any column, which ``long`` refuses.
    The price of it is that in-process callers must pass floats (``data.as_model_input``).
    """
    return infer_signature(as_model_input(X), y_pred)


def log_training(
    result: TrainingResult,
    train: pd.DataFrame,
    *,
    experiment: str = DEFAULT_EXPERIMENT,
    register: bool = False,
    data_source: str | None = None,
) -> LoggedRun:
    """Log ``result`` as one MLflow run and, with ``register``, move the champion alias to it.

    The tracking URI is whatever MLflow is configured with (``mlflow.set_tracking_uri``).
    Registration happens only after the run is complete, so a failure leaves no version behind.
    """
    mlflow.set_experiment(experiment)
    trusted = trusted_types_for(result.model)
    with mlflow.start_run() as run:
        mlflow.log_params(result.params)
        mlflow.log_metrics(result.metrics | {"fit_seconds": result.fit_seconds})
        figure = actual_vs_predicted(result.y_valid, result.y_pred)
        mlflow.log_figure(figure, "actual_vs_predicted.html")
        dataset = mlflow.data.from_pandas(
            train, source=data_source, name="train.csv", targets="SalePrice"
        )
        mlflow.log_input(dataset, context="training")
        example = as_model_input(result.X_train.head(5))
        info = mlflow.sklearn.log_model(
            result.model,
            name=MODEL_NAME,
            serialization_format="skops",
            skops_trusted_types=trusted,
            signature=model_signature(result.X_train, result.y_pred),
            input_example=example,
            pip_requirements=pip_requirements(result.config.requirements),
        )
    log.info("Logged run %s, model %s", run.info.run_id, info.model_uri)
    logged = LoggedRun(run.info.run_id, info.model_uri, run.info.experiment_id)
    return register_champion(logged) if register else logged


def register_champion(logged: LoggedRun) -> LoggedRun:
    """Register the run's model as ``house-price-model`` and point ``champion`` at it."""
    version_ = mlflow.register_model(logged.model_uri, REGISTERED_MODEL)
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION, version_.version)
    uri = f"models:/{REGISTERED_MODEL}@{CHAMPION}"
    log.info("Registered version %s of %s; %s points at it", version_.version,
             REGISTERED_MODEL, uri)
    return LoggedRun(logged.run_id, logged.model_uri, logged.experiment_id, uri,
                     str(version_.version))
