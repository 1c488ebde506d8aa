"""Model configurations: raw Kaggle rows in, dollars out; saved with reviewed types; "best"."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import skops.io

from house_price.cli import build_parser
from house_price.data import as_model_input, load_test, load_train
from house_price.models import BEST, CANDIDATES, MODELS, get_model_config
from house_price.pipeline import features_and_target, split
from house_price.train import OUTLIER_RULE, fit_on_split, train_model
from house_price.trust import trusted_types_for

ENGINEERED = [name for name in CANDIDATES if MODELS[name].drop_outliers]


@pytest.fixture(scope="module")
def synthetic_train(synthetic_data_dir) -> pd.DataFrame:
    return load_train(synthetic_data_dir)


@pytest.fixture(scope="module")
def synthetic_results(synthetic_train) -> dict:
    """Every configuration, "best" included, trained once on the synthetic rows."""
    return {name: train_model(synthetic_train, name) for name in MODELS}


def odd_rows(like: pd.DataFrame) -> pd.DataFrame:
    """An all-missing row and a row of categories and sizes training never saw."""
    empty = pd.DataFrame({name: [np.nan] for name in like.columns})
    odd = like.iloc[[0]].copy()
    odd["Neighborhood"], odd["KitchenQual"], odd["SaleType"] = "Atlantis", "Superb", "Barter"
    odd["GrLivArea"], odd["LotArea"] = 30_000.0, 2e6
    return as_model_input(pd.concat([empty, odd], ignore_index=True))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_configuration_predicts_positive_dollars_for_raw_test_rows(
        name, synthetic_results, synthetic_data_dir):
    result = synthetic_results[name]
    test = load_test(synthetic_data_dir)  # with Id, nulls and columns seed drops

    predictions = result.model.predict(test)

    assert predictions.shape == (len(test),)
    assert np.isfinite(predictions).all() and (predictions > 0).all()
    low, high = result.y_train.min(), result.y_train.max()
    assert low / 5 < np.median(predictions) < high * 5


@pytest.mark.parametrize("name", sorted(MODELS))
def test_configuration_predicts_all_missing_and_unseen_rows(name, synthetic_results):
    result = synthetic_results[name]

    predictions = result.model.predict(odd_rows(result.X_valid))

    assert np.isfinite(predictions).all() and (predictions > 0).all()


@pytest.mark.parametrize("name", CANDIDATES)  # "best" is the same estimator as its pick
def test_configuration_saves_with_reviewed_types_and_loads_to_the_same_predictions(
        name, synthetic_results):
    result = synthetic_results[name]

    trusted = trusted_types_for(result.model)  # raises on a type nobody reviewed
    loaded = skops.io.loads(skops.io.dumps(result.model), trusted=trusted)

    np.testing.assert_array_equal(loaded.predict(result.X_valid),
                                  result.model.predict(result.X_valid))


def test_best_is_the_selected_configuration_refitted_on_all_rows(
        synthetic_results, synthetic_train):
    best = synthetic_results["best"]
    split_only = synthetic_results[BEST]

    assert get_model_config("best").refit_all and not get_model_config(BEST).refit_all
    assert best.params["selected"] == BEST
    assert best.refit_rows == len(synthetic_train)  # synthetic data has no outliers
    assert best.metrics["RMSE"] == split_only.metrics["RMSE"]  # scored before the refit
    assert "refit_seconds" in best.metrics
    assert not np.allclose(best.model.predict(best.X_valid),
                           split_only.model.predict(best.X_valid))


def test_train_cli_offers_best_and_every_configuration():
    parser = build_parser()

    for name in MODELS:
        assert parser.parse_args(["train", "--model", name]).model == name


def with_outliers(train: pd.DataFrame, count: int) -> tuple[pd.DataFrame, list[int]]:
    """Turn ``count`` houses of the tutorial's training split into documented outliers."""
    X, y = features_and_target(train)
    ids = train.loc[split(X, y)[0].index[:count], "Id"].tolist()
    frame = train.copy()
    rows = frame["Id"].isin(ids)
    frame.loc[rows, "GrLivArea"] = 5000.0
    frame.loc[rows, "SalePrice"] = 150_000
    return frame, ids


def test_engineered_training_leaves_out_documented_outliers_and_logs_them(synthetic_train):
    train, ids = with_outliers(synthetic_train, 2)

    lasso = fit_on_split(train, get_model_config("lasso"))
    seed = fit_on_split(train, get_model_config("seed"))

    assert lasso.params["outliers_removed"] == ",".join(map(str, ids))
    assert lasso.params["outlier_rule"] == OUTLIER_RULE
    assert len(lasso.X_train) == len(seed.X_train) - 2
    assert seed.params["outliers_removed"] == "none"
    assert lasso.X_valid.index.equals(seed.X_valid.index)  # same validation rows for both


@pytest.mark.slow
@pytest.mark.parametrize("name", CANDIDATES)
def test_configuration_fits_and_predicts_the_real_test_file(name, real_data_dir):
    result = fit_on_split(load_train(real_data_dir), get_model_config(name))

    predictions = result.model.predict(load_test(real_data_dir))

    assert len(predictions) == 1459
    assert np.isfinite(predictions).all() and (predictions > 10_000).all()
    if name in ENGINEERED:  # better than the tutorial's validation figures
        assert result.metrics["RMSE"] < 28413.02 and result.metrics["MAE"] < 17463.92


@pytest.mark.slow
def test_best_is_logged_served_and_predicts_as_in_process(
        tracking_uri, real_data_dir, tmp_path):
    import requests

    from house_price.client import to_dataframe_split
    from house_price.tracking import log_training
    from house_price.trust import load_pyfunc

    from served import serving

    train = load_train(real_data_dir)
    result = train_model(train, "best")
    logged = log_training(result, train)
    raw = pd.read_csv(real_data_dir / "test.csv").head(20)
    raw.loc[0, :] = np.nan  # a row of nulls but for its Id
    raw.loc[0, "Id"] = 1461

    expected = load_pyfunc(logged.model_uri).predict(as_model_input(raw))
    with serving(logged.model_uri, tmp_path) as served:
        response = requests.post(f"{served.url}/invocations",
                                 data=json.dumps(to_dataframe_split(raw), allow_nan=False),
                                 headers={"Content-Type": "application/json"}, timeout=120)

    assert response.status_code == 200, response.text[:500]
    served_predictions = np.asarray(response.json()["predictions"])
    assert np.isfinite(served_predictions).all()
    assert np.abs(served_predictions - expected).max() < 1e-6
