"""Registry of named model configurations: the seam where model selection happens.

A configuration turns training features into an unfitted scikit-learn estimator that takes raw
Kaggle rows and returns prices in dollars. ``house-price train --model NAME`` picks one;
``house-price compare`` cross-validates them all. "best" names the configuration that the
comparison selected (``BEST``) and is refitted on every training row before it is logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import GradientBoostingRegressor, VotingRegressor
from sklearn.linear_model import Lasso
from sklearn.pipeline import Pipeline
from sklearn.svm import SVR

from house_price.errors import UnknownModelError
from house_price.features import feature_pipeline_steps
from house_price.pipeline import RANDOM_STATE, column_groups, make_seed_pipeline


@dataclass(frozen=True)
class ModelConfig:
    """A named way to build the estimator and to prepare its training data.

    Attributes:
        build: called with the training features, returns the unfitted estimator.
        drop_sparse: drop columns more than 30% missing before training (the tutorial's step).
        params: what gets logged to MLflow as this configuration's parameters.
        requirements: packages prediction needs beyond scikit-learn's stack (e.g. lightgbm).
        drop_outliers: leave the documented outliers out of training (``train.OUTLIER_RULE``).
        refit_all: after scoring on the validation split, refit on all training rows.
    """

    name: str
    summary: str
    build: Callable[[pd.DataFrame], BaseEstimator]
    drop_sparse: bool = False
    params: dict | None = None
    requirements: tuple[str, ...] = ()
    drop_outliers: bool = False
    refit_all: bool = False


def _build_seed(X: pd.DataFrame) -> BaseEstimator:
    return make_seed_pipeline(*column_groups(X))


def on_log_prices(X: pd.DataFrame, model: BaseEstimator) -> TransformedTargetRegressor:
    """Put ``model`` after the feature engineering, fitted on ``log1p(price)``.

    Kaggle scores the error of log prices, and on a log scale a linear model's errors are
    proportional to the price; predictions come back in dollars through ``expm1``.
    """
    pipeline = Pipeline([*feature_pipeline_steps(X), ("model", model)])
    return TransformedTargetRegressor(regressor=pipeline, func=np.log1p, inverse_func=np.expm1)


LASSO = {"alpha": 0.0005, "max_iter": 50_000}
SVR_PARAMS = {"C": 20.0, "epsilon": 0.008, "gamma": 0.0003}
# Many shallow trees, each split drawn from a random sqrt(n) of the features, and a Huber
# loss so that the few oddly priced sales left in the data pull less on the fit.
# 500 trees at rate 0.1 blend nearly as well as 1500 at 0.05 (bench/models.py --ablations)
# for a third of the file: skops writes every tree's state, about 36 kB each, twice in a blend.
GBR = {"n_estimators": 500, "learning_rate": 0.1, "max_depth": 4, "max_features": "sqrt",
       "min_samples_leaf": 15, "min_samples_split": 10, "loss": "huber",
       "random_state": RANDOM_STATE}


def make_lasso() -> Lasso:
    """Return the L1-regularized linear model (alpha chosen by CV among 3e-4, 5e-4, 8e-4)."""
    return Lasso(**LASSO)


def make_svr() -> SVR:
    """Return the RBF support vector regressor."""
    return SVR(**SVR_PARAMS)


def make_gbr() -> GradientBoostingRegressor:
    """Return the gradient-boosted trees."""
    return GradientBoostingRegressor(**GBR)


def make_blend() -> VotingRegressor:
    """Return the unweighted mean of the lasso, the SVR and the boosted trees."""
    # Equal weights: tuning them on the same folds that report the score would flatter it.
    return VotingRegressor([("lasso", make_lasso()), ("svr", make_svr()), ("gbr", make_gbr())])


def _engineered(name: str, summary: str, make: Callable[[], BaseEstimator],
                params: dict) -> ModelConfig:
    return ModelConfig(
        name=name,
        summary=summary,
        build=lambda X: on_log_prices(X, make()),
        params={"target": "log1p", "features": "engineered", **params},
        drop_outliers=True,
    )


def _prefixed(prefix: str, params: dict) -> dict:
    return {f"{prefix}_{key}": value for key, value in params.items()}


MODELS: dict[str, ModelConfig] = {
    "seed": ModelConfig(
        name="seed",
        summary="The tutorial's baseline: impute, one-hot, random forest (100 trees)",
        build=_build_seed,
        drop_sparse=True,
        params={"n_estimators": 100, "random_state": 42, "missing_threshold": 0.3},
    ),
    "lasso": _engineered("lasso", "Engineered features, L1-regularized linear model on log "
                         "prices", make_lasso, LASSO),
    "svr": _engineered("svr", "Engineered features, RBF support vector regression on log "
                       "prices", make_svr, SVR_PARAMS),
    "gbr": _engineered("gbr", "Engineered features, gradient-boosted trees (Huber loss) on "
                       "log prices", make_gbr, GBR),
    "blend": _engineered("blend", "Mean of lasso, svr and gbr on log prices, one shared "
                         "feature pipeline", make_blend,
                         {**_prefixed("lasso", LASSO), **_prefixed("svr", SVR_PARAMS),
                          **_prefixed("gbr", GBR)}),
}
DEFAULT_MODEL = "seed"
# The configuration `house-price compare` ranked first by CV RMSLE (README, "Models").
BEST = "blend"
MODELS["best"] = replace(
    MODELS[BEST],
    name="best",
    summary=f"The comparison's pick ({BEST}), refitted on all training rows",
    params={"selected": BEST, **(MODELS[BEST].params or {})},
    refit_all=True,
)
# What `house-price compare` evaluates: every configuration once ("best" is an alias).
CANDIDATES = tuple(name for name in MODELS if name != "best")


def get_model_config(name: str) -> ModelConfig:
    """Look up a configuration by name.

    Raises:
        UnknownModelError: unknown name; the message lists the known ones.
    """
    if name not in MODELS:
        known = ", ".join(sorted(MODELS))
        raise UnknownModelError(f"unknown model {name!r}; choose one of: {known}")
    return MODELS[name]

