"""Fit a configuration on the tutorial's training split and score it on the validation split."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import mean_absolute_error, root_mean_squared_error

from house_price.models import DEFAULT_MODEL, ModelConfig, get_model_config
from house_price.pipeline import features_and_target, sparse_columns, split

log = logging.getLogger(__name__)


@dataclass
class TrainingResult:
    """A fitted model with the data it saw and its validation figures."""

    config: ModelConfig
    model: BaseEstimator
    X_train: pd.DataFrame
    X_valid: pd.DataFrame
    y_train: pd.Series
    y_valid: pd.Series
    y_pred: np.ndarray
    dropped: list[str]
    fit_seconds: float
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def params(self) -> dict:
        """Parameters worth logging: the configuration's own and the data decisions."""
        return {
            "model": self.config.name,
            **(self.config.params or {}),
            "dropped_columns": ",".join(self.dropped) or "none",
            "train_rows": len(self.X_train),
            "valid_rows": len(self.X_valid),
        }


def evaluate(y_true, y_pred) -> dict[str, float]:
    """Return ``RMSE`` and ``MAE`` in dollars, the figures the tutorial reports."""
    return {
        "RMSE": float(root_mean_squared_error(y_true, y_pred)),
        "MAE": float(mean_absolute_error(y_true, y_pred)),
    }


def train_model(train: pd.DataFrame, model_name: str = DEFAULT_MODEL) -> TrainingResult:
    """Split ``train`` as the tutorial does, fit the named configuration and score it."""
    config = get_model_config(model_name)
    dropped = sparse_columns(train) if config.drop_sparse else []
    X, y = features_and_target(train, drop=dropped)
    X_train, X_valid, y_train, y_valid = split(X, y)
    log.info("Training %r on %d rows x %d features", config.name, *X_train.shape)

    model = config.build(X_train)
    started = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - started

    y_pred = model.predict(X_valid)
    metrics = evaluate(y_valid, y_pred)
    log.info("Fitted in %.2f s: RMSE %.2f, MAE %.2f", fit_seconds, metrics["RMSE"], metrics["MAE"])
    return TrainingResult(
        config, model, X_train, X_valid, y_train, y_valid, y_pred, dropped, fit_seconds, metrics
    )
