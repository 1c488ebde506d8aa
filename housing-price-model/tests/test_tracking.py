"""Tracking against a real MLflow server: run contents, model, requirements, registry alias."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest

from house_price.data import load_test
from house_price.tracking import CHAMPION, REGISTERED_MODEL
from house_price.trust import load_pyfunc

pytestmark = pytest.mark.slow

TUTORIAL_FIRST_FIVE = [128528.33, 154789.5, 179432.35, 187597.95, 204727.06]


def test_run_logs_tutorial_metrics_and_figure(seed_run):
    _, logged = seed_run
    run = mlflow.get_run(logged.run_id)

    assert round(run.data.metrics["RMSE"], 2) == 28413.02
    assert round(run.data.metrics["MAE"], 2) == 17463.92
    assert run.data.params["model"] == "seed"
    artifacts = {item.path for item in mlflow.MlflowClient().list_artifacts(logged.run_id)}
    assert "actual_vs_predicted.html" in artifacts
    assert run.inputs.dataset_inputs[0].dataset.name == "train.csv"


def test_champion_alias_loads_and_predicts_all_test_rows(seed_run, real_data_dir):
    _, logged = seed_run
    client = mlflow.MlflowClient()
    version = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION)

    model = load_pyfunc(f"models:/{REGISTERED_MODEL}@{CHAMPION}")
    predictions = model.predict(load_test(real_data_dir))

    # Other tests may register the seed again; the alias must follow the newest version.
    assert int(version.version) >= int(logged.version)
    assert client.get_run(version.run_id).data.params["model"] == "seed"
    assert len(predictions) == 1459
    np.testing.assert_allclose(np.round(predictions[:5], 2), TUTORIAL_FIRST_FIVE)
