"""Compare the model configurations: repeated K-fold CV on train.csv, one nested MLflow run each.

The primary figure is RMSLE, the RMSE of log prices that Kaggle scores. Every configuration
sees the same folds of the same rows: train.csv less the documented outliers (``OUTLIER_RULE``
in ``train``), as in the public notebooks the figures are compared with. RMSE and MAE in
dollars come from the tutorial's validation split, as ``house-price train`` reports them.
"""

from __future__ import annotations

import logging
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import RepeatedKFold

from house_price.data import ID, TARGET, as_model_input
from house_price.errors import UserError
from house_price.models import BEST, CANDIDATES, ModelConfig, get_model_config
from house_price.pipeline import RANDOM_STATE
from house_price.train import (
    OUTLIER_RULE,
    fit_on_split,
    outlier_rows,
    prepare,
    without_outliers,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

log = logging.getLogger(__name__)

DEFAULT_FOLDS = 5
DEFAULT_REPEATS = 3
LATENCY_CALLS = 30
TOP_FEATURES = 20


class ComparisonError(UserError):
    """Options that make no comparison (too few folds, too few rows)."""


@dataclass
class Evaluation:
    """One configuration's figures in a comparison."""

    name: str
    cv_rmsle: list[float]
    fit_seconds: list[float]
    valid_rmse: float
    valid_mae: float
    predict_ms: float
    run_id: str | None = None

    @property
    def cv_mean(self) -> float:
        """Mean RMSLE over all folds and repeats."""
        return statistics.fmean(self.cv_rmsle)

    @property
    def cv_std(self) -> float:
        """Standard deviation of the per-fold RMSLE (0 with a single fold)."""
        return statistics.pstdev(self.cv_rmsle)

    def metrics(self) -> dict[str, float]:
        """Return what the configuration's MLflow run records."""
        return {
            "cv_rmsle_mean": self.cv_mean,
            "cv_rmsle_std": self.cv_std,
            "RMSE": self.valid_rmse,
            "MAE": self.valid_mae,
            "fit_seconds": statistics.fmean(self.fit_seconds),
            "predict_ms": self.predict_ms,
        }


def rmsle(y_true, y_pred) -> float:
    """Return the RMSE of ``log1p`` prices; predictions below zero count as zero."""
    error = np.log1p(np.clip(np.asarray(y_pred, dtype=float), 0, None)) - np.log1p(y_true)
    return float(np.sqrt(np.mean(error**2)))


def comparison_data(train: pd.DataFrame, config: ModelConfig):
    """Return ``config``'s features and target for CV: its columns, no outliers."""
    X, y, _ = prepare(train, config)
    return without_outliers(X, y)


def cross_validate(config: ModelConfig, X: pd.DataFrame, y: pd.Series, *,
                   folds: int = DEFAULT_FOLDS, repeats: int = DEFAULT_REPEATS,
                   progress: str = "") -> tuple[list[float], list[float]]:
    """Fit ``config`` on each training fold and score the held-out fold.

    Returns the RMSLE and the fit seconds of every fold, repeat after repeat.
    """
    if folds < 2 or folds > len(X):
        raise ComparisonError(f"--folds must be between 2 and the {len(X)} rows; got {folds}")
    if repeats < 1:
        raise ComparisonError(f"--repeats must be at least 1; got {repeats}")
    splitter = RepeatedKFold(n_splits=folds, n_repeats=repeats, random_state=RANDOM_STATE)
    template = config.build(X)
    scores, seconds = [], []
    for number, (train_rows, test_rows) in enumerate(splitter.split(X), start=1):
        model = clone(template)
        started = time.perf_counter()
        model.fit(X.iloc[train_rows], y.iloc[train_rows])
        seconds.append(time.perf_counter() - started)
        scores.append(rmsle(y.iloc[test_rows], model.predict(X.iloc[test_rows])))
        log.info("%s %s fold %d/%d: RMSLE %.4f, fit %.1f s", progress, config.name, number,
                 folds * repeats, scores[-1], seconds[-1])
    return scores, seconds


def single_row_ms(model, X: pd.DataFrame, calls: int = LATENCY_CALLS) -> float:
    """Return the median milliseconds of ``model.predict`` on one row, after one warm-up."""
    row = as_model_input(X.iloc[[0]])
    model.predict(row)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        model.predict(row)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def residual_plot(y_true, y_pred, name: str) -> go.Figure:
    """Scatter of validation residuals (actual - predicted, dollars) against predictions."""
    import plotly.express as px

    frame = pd.DataFrame({"predicted": np.asarray(y_pred),
                          "residual": np.asarray(y_true) - np.asarray(y_pred)})
    figure = px.scatter(frame, x="predicted", y="residual",
                        title=f"{name}: validation residuals against predicted SalePrice")
    figure.add_hline(y=0)
    return figure


def _final_pipeline(model):
    """Return the fitted Pipeline inside ``model`` (unwrapping the log-target wrapper)."""
    return getattr(model, "regressor_", model)


def weights(model) -> dict[str, tuple[str, pd.Series]]:
    """Return each fitted regressor's importances or coefficients by encoded feature name.

    Keys name the regressor (a blend's members by their own names); values are
    ``("importances" or "coefficients", weights)``. A regressor with neither (an RBF SVR) is
    left out.
    """
    pipeline = _final_pipeline(model)
    names = pipeline[-2].get_feature_names_out()
    final = pipeline[-1]
    members = dict(getattr(final, "named_estimators_", {"model": final}))
    found = {}
    for member, estimator in members.items():
        for kind, attribute in (("importances", "feature_importances_"),
                                ("coefficients", "coef_")):
            if hasattr(estimator, attribute):
                values = np.ravel(getattr(estimator, attribute))
                found[member] = (kind, pd.Series(values, index=names))
                break
    return found


def weights_plot(values: pd.Series, title: str) -> go.Figure:
    """Bar chart of the ``TOP_FEATURES`` largest weights by absolute value."""
    import plotly.express as px

    top = values.reindex(values.abs().sort_values(ascending=False).index[:TOP_FEATURES])
    return px.bar(x=top.values[::-1], y=top.index[::-1], orientation="h", title=title,
                  labels={"x": "weight", "y": "feature"})


def evaluate(train: pd.DataFrame, config: ModelConfig, *, folds: int, repeats: int,
             progress: str = "") -> tuple[Evaluation, dict[str, go.Figure], dict]:
    """Cross-validate ``config`` and score it on the validation split.

    Returns the evaluation, its figures by artifact name, and the parameters to log.
    """
    X, y = comparison_data(train, config)
    scores, seconds = cross_validate(config, X, y, folds=folds, repeats=repeats,
                                     progress=progress)
    result = fit_on_split(train, config)
    evaluation = Evaluation(config.name, scores, seconds, result.metrics["RMSE"],
                            result.metrics["MAE"], single_row_ms(result.model, result.X_valid))
    figures = {"residuals.html": residual_plot(result.y_valid, result.y_pred, config.name)}
    for member, (kind, values) in weights(result.model).items():
        title = f"{config.name}: {member} {kind} (top {TOP_FEATURES})"
        figures[f"{kind}_{member}.html"] = weights_plot(values, title)
    return evaluation, figures, result.params


def chosen(names: list[str] | None) -> list[str]:
    """Return the configurations to compare: ``names`` checked, else every candidate.

    Raises:
        UnknownModelError: a name the registry does not know.
    """
    names = list(names or CANDIDATES)
    for name in names:
        get_model_config(name)
    return names


def compare(train: pd.DataFrame, names: list[str] | None = None, *,
            folds: int = DEFAULT_FOLDS, repeats: int = DEFAULT_REPEATS,
            experiment: str | None = None) -> list[Evaluation]:
    """Evaluate the configurations, each as an MLflow run nested under one comparison run.

    The tracking URI is whatever MLflow is configured with; ``experiment`` defaults to the
    training experiment.
    """
    import mlflow

    from house_price.tracking import DEFAULT_EXPERIMENT

    names = chosen(names)
    mlflow.set_experiment(experiment or DEFAULT_EXPERIMENT)
    evaluations = []
    with mlflow.start_run(run_name="compare"):
        outliers = outlier_rows(train, train[TARGET])
        mlflow.log_params({"folds": folds, "repeats": repeats, "random_state": RANDOM_STATE,
                           "models": ",".join(names), "outlier_rule": OUTLIER_RULE,
                           "outliers_removed": ",".join(map(str, train.loc[outliers, ID])),
                           "cv_rows": len(train) - len(outliers)})
        for number, name in enumerate(names, start=1):
            progress = f"[{number}/{len(names)}]"
            log.info("%s Cross-validating %r (%d folds x %d repeats)", progress, name, folds,
                     repeats)
            evaluations.append(_evaluate_in_run(train, get_model_config(name), folds, repeats,
                                                progress))
        ranked = min(evaluations, key=lambda item: item.cv_mean)
        mlflow.log_params({"best_by_cv": ranked.name, "best_alias": BEST})
        mlflow.log_text(table(evaluations), "comparison.md")
    return evaluations


def _evaluate_in_run(train, config, folds, repeats, progress) -> Evaluation:
    import mlflow

    with mlflow.start_run(run_name=config.name, nested=True) as run:
        evaluation, figures, params = evaluate(train, config, folds=folds, repeats=repeats,
                                               progress=progress)
        mlflow.log_params(params)
        mlflow.log_metrics(evaluation.metrics())
        for step, score in enumerate(evaluation.cv_rmsle):
            mlflow.log_metric("cv_rmsle", score, step=step)
        for artifact, figure in figures.items():
            mlflow.log_figure(figure, artifact)
    evaluation.run_id = run.info.run_id
    log.info("%s %s: CV RMSLE %.4f +- %.4f", progress, config.name, evaluation.cv_mean,
             evaluation.cv_std)
    return evaluation


def table(evaluations: list[Evaluation]) -> str:
    """Return the evaluations as a Markdown table, in the order given."""
    lines = [
        "| model | CV RMSLE (mean ± sd) | valid RMSE ($) | valid MAE ($) | fit (s) | "
        "1-row predict (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for item in evaluations:
        metrics = item.metrics()
        lines.append(
            f"| {item.name} | {item.cv_mean:.4f} ± {item.cv_std:.4f} | "
            f"{item.valid_rmse:,.0f} | {item.valid_mae:,.0f} | {metrics['fit_seconds']:.1f} | "
            f"{item.predict_ms:.1f} |"
        )
    return "\n".join(lines)
