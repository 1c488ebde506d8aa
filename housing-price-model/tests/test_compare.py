"""``house-price compare``: fold scores, the nested MLflow runs, the table, best against seed."""

from __future__ import annotations

import numpy as np
import pytest

from house_price.cli import main
from house_price.compare import (
    ComparisonError,
    comparison_data,
    cross_validate,
    rmsle,
    single_row_ms,
    table,
)
from house_price.data import load_train
from house_price.models import BEST, get_model_config


def test_rmsle_is_the_rmse_of_log_prices():
    truth, predicted = [100_000, 200_000], [110_000, 180_000]
    expected = np.sqrt(np.mean((np.log1p(predicted) - np.log1p(truth)) ** 2))
    assert rmsle(truth, predicted) == pytest.approx(expected)


def test_rmsle_counts_a_negative_prediction_as_zero():
    assert rmsle([1_000], [-5]) == pytest.approx(np.log1p(1_000))


def test_cross_validation_scores_every_fold_of_every_repeat(synthetic_data_dir):
    config = get_model_config("lasso")
    X, y = comparison_data(load_train(synthetic_data_dir), config)

    scores, seconds = cross_validate(config, X, y, folds=3, repeats=2)

    assert len(scores) == len(seconds) == 6
    assert all(0 < score < 1 for score in scores)
    assert len(set(scores)) == 6  # six different held-out folds


@pytest.mark.parametrize("folds, repeats", [(1, 1), (5, 0), (10_000, 1)])
def test_cross_validation_refuses_folds_that_make_no_comparison(
        synthetic_data_dir, folds, repeats):
    config = get_model_config("lasso")
    X, y = comparison_data(load_train(synthetic_data_dir), config)

    with pytest.raises(ComparisonError, match=r"--folds|--repeats"):
        cross_validate(config, X, y, folds=folds, repeats=repeats)


def test_single_row_latency_is_measured_on_a_real_predict(synthetic_data_dir):
    from house_price.train import fit_on_split

    result = fit_on_split(load_train(synthetic_data_dir), get_model_config("lasso"))
    assert single_row_ms(result.model, result.X_valid, calls=3) > 0


def test_unknown_configuration_is_one_line_naming_the_known_ones(capsys):
    code = main(["compare", "--models", "seed,nope"])

    error = capsys.readouterr().err.strip()
    assert code == 1
    assert error.count("\n") == 0 and "'nope'" in error and "lasso" in error


@pytest.mark.slow
def test_compare_logs_nested_runs_with_figures_and_prints_the_table(
        tracking_uri, synthetic_data_dir, capsys):
    import mlflow

    code = main(["compare", "--models", "seed,blend", "--folds", "2", "--repeats", "2",
                 "--data", str(synthetic_data_dir), "--experiment", "compare-test"])

    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("| model | CV RMSLE")  # MLflow's run links went to stderr
    assert "| seed | " in out and "| blend | " in out
    runs = mlflow.search_runs(experiment_names=["compare-test"], output_format="list")
    parent = next(run for run in runs if run.info.run_name == "compare")
    children = {run.info.run_name: run for run in runs
                if run.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    assert set(children) == {"seed", "blend"}
    blend = children["blend"]
    assert {"cv_rmsle_mean", "cv_rmsle_std", "RMSE", "MAE", "fit_seconds",
            "predict_ms"} <= set(blend.data.metrics)
    history = mlflow.MlflowClient().get_metric_history(blend.info.run_id, "cv_rmsle")
    assert len(history) == 4
    assert blend.data.params["outlier_rule"] != "none"
    artifacts = {item.path for item in mlflow.MlflowClient().list_artifacts(blend.info.run_id)}
    assert {"residuals.html", "coefficients_lasso.html", "importances_gbr.html"} <= artifacts
    assert "importances_model.html" in {
        item.path for item in mlflow.MlflowClient().list_artifacts(children["seed"].info.run_id)}
    assert parent.data.params["best_alias"] == BEST


@pytest.mark.slow
def test_best_beats_the_seed_cv_rmsle_by_a_fifth_on_the_real_data(real_data_dir):
    train = load_train(real_data_dir)
    scores = {}
    for name in ("seed", BEST):
        config = get_model_config(name)
        X, y = comparison_data(train, config)
        scores[name] = np.mean(cross_validate(config, X, y, folds=3, repeats=1)[0])

    assert scores[BEST] <= 0.8 * scores["seed"], scores


def test_table_has_one_row_per_evaluation_in_order():
    from house_price.compare import Evaluation

    rows = [Evaluation("b", [0.2, 0.3], [1.0], 30_000.0, 20_000.0, 5.0),
            Evaluation("a", [0.1], [2.0], 25_000.0, 15_000.0, 7.5)]

    lines = table(rows).splitlines()

    assert len(lines) == 4
    assert lines[2] == "| b | 0.2500 ± 0.0500 | 30,000 | 20,000 | 1.0 | 5.0 |"
    assert lines[3].startswith("| a | 0.1000 ± 0.0000 |")
