"""The logged model's signature and requirements, checked on the model the run stored."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.pyfunc.scoring_server import infer_and_parse_data

from house_price.data import load_test
from house_price.trust import load_pyfunc

pytestmark = pytest.mark.slow

ALLOWED_REQUIREMENTS = {"mlflow", "numpy", "pandas", "scikit-learn", "scipy", "skops"}


@pytest.fixture(scope="module")
def logged_model(seed_run):
    return load_pyfunc(seed_run[1].model_uri)


def raw_test_as_json(real_data_dir) -> dict:
    """Serialize test.csv as an HTTP client would: every column, integers, nulls."""
    raw = pd.read_csv(real_data_dir / "test.csv")
    return {"dataframe_split": json.loads(raw.to_json(orient="split", index=False))}


def test_every_test_row_predicts_in_process(logged_model, real_data_dir):
    predictions = logged_model.predict(load_test(real_data_dir))

    assert predictions.shape == (1459,)
    assert np.isfinite(predictions).all()


def test_every_test_row_predicts_from_json_with_integers_and_nulls(logged_model, real_data_dir):
    body = raw_test_as_json(real_data_dir)
    assert any(value is None for row in body["dataframe_split"]["data"] for value in row)

    frame = infer_and_parse_data(body, logged_model.metadata.get_input_schema())
    predictions = logged_model.predict(frame)

    expected = logged_model.predict(load_test(real_data_dir))
    np.testing.assert_allclose(predictions, expected, atol=1e-6)


def test_plain_read_csv_frame_is_refused_with_the_cast_named(logged_model, real_data_dir):
    raw = pd.read_csv(real_data_dir / "test.csv")

    with pytest.raises(mlflow.exceptions.MlflowException, match="convert int64 to float64"):
        logged_model.predict(raw)


def test_numeric_columns_are_double_in_signature(logged_model):
    types = {spec.name: spec.type.name for spec in logged_model.metadata.get_input_schema()}

    assert types["LotArea"] == "double"
    assert types["GarageCars"] == "double"
    assert types["Neighborhood"] == "string"


def test_requirements_hold_only_what_prediction_needs(seed_run):
    path = mlflow.pyfunc.get_model_dependencies(seed_run[1].model_uri)
    lines = [line for line in Path(path).read_text().splitlines() if line.strip()]

    names = {line.split("==")[0] for line in lines}
    assert names == ALLOWED_REQUIREMENTS
    assert all("==" in line for line in lines)


def test_input_example_is_five_rows(seed_run, tmp_path):
    folder = mlflow.artifacts.download_artifacts(seed_run[1].model_uri, dst_path=str(tmp_path))

    example = json.loads((Path(folder) / "input_example.json").read_text())

    assert len(example["data"]) == 5
