"""Registry of named model configurations: the seam where model selection happens.

A configuration turns training features into an unfitted scikit-learn estimator that takes raw
Kaggle rows and returns prices in dollars. ``house-price train --model NAME`` picks one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from sklearn.base import BaseEstimator

from house_price.errors import UnknownModelError
from house_price.pipeline import column_groups, make_seed_pipeline


@dataclass(frozen=True)
class ModelConfig:
    """A named way to build the estimator and to prepare its training data.

    Attributes:
        build: called with the training features, returns the unfitted estimator.
        drop_sparse: drop columns more than 30% missing before training (the tutorial's step).
        params: what gets logged to MLflow as this configuration's parameters.
        requirements: packages prediction needs beyond scikit-learn's stack (e.g. lightgbm).
    """

    name: str
    summary: str
    build: Callable[[pd.DataFrame], BaseEstimator]
    drop_sparse: bool = False
    params: dict | None = None
    requirements: tuple[str, ...] = ()


def _build_seed(X: pd.DataFrame) -> BaseEstimator:
    return make_seed_pipeline(*column_groups(X))


MODELS: dict[str, ModelConfig] = {
    "seed": ModelConfig(
        name="seed",
        summary="The tutorial's baseline: impute, one-hot, random forest (100 trees)",
        build=_build_seed,
        drop_sparse=True,
        params={"n_estimators": 100, "random_state": 42, "missing_threshold": 0.3},
    ),
}
DEFAULT_MODEL = "seed"


def get_model_config(name: str) -> ModelConfig:
    """Look up a configuration by name.

    Raises:
        UnknownModelError: unknown name; the message lists the known ones.
    """
    if name not in MODELS:
        known = ", ".join(sorted(MODELS))
        raise UnknownModelError(f"unknown model {name!r}; choose one of: {known}")
    return MODELS[name]

