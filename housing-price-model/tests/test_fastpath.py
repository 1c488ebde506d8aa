"""The server's compiled predictor: equal to the pipeline, or not used at all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from house_price.data import as_model_input, load_test, load_train
from house_price.serving.fastpath import UNSEEN, compile_pipeline, verified_fast_path
from house_price.serving.validation import conform_frame
from house_price.tracking import model_signature
from house_price.train import train_model


@pytest.fixture(scope="module")
def seed(synthetic_data_dir):
    """The seed fitted on synthetic data, its signature and test.csv rows (Id included)."""
    result = train_model(load_train(synthetic_data_dir), "seed")
    signature = model_signature(result.X_train, result.y_pred)
    return result.model, signature, as_model_input(load_test(synthetic_data_dir))


def served(frame: pd.DataFrame, schema) -> dict[str, np.ndarray]:
    return conform_frame(frame, schema)


def variants(test: pd.DataFrame) -> dict[str, pd.DataFrame]:
    text = test.select_dtypes(exclude="number").columns
    missing = pd.DataFrame({name: pd.Series(np.nan, test.index, dtype=object if name in text
                                            else float) for name in test.columns})
    return {"test": test, "unseen": test.assign(**dict.fromkeys(text, UNSEEN)),
            "missing": missing}


@pytest.mark.parametrize("rows", ["test", "unseen", "missing"])
def test_compiled_seed_pipeline_predicts_what_the_pipeline_predicts(seed, rows):
    model, signature, test = seed
    inputs = served(variants(test)[rows], signature.inputs)

    fast = compile_pipeline(model)

    expected = model.predict(pd.DataFrame(inputs))
    np.testing.assert_allclose(fast(inputs), expected, rtol=0, atol=1e-6)


def test_a_pipeline_with_steps_it_does_not_cover_is_not_compiled(seed):
    _, _, test = seed
    numbers = test.select_dtypes("number").columns.tolist()
    other = Pipeline([
        ("scale", ColumnTransformer([("num", StandardScaler(), numbers)])),
        ("model", LinearRegression()),
    ])
    other.fit(test[numbers].fillna(0), np.arange(len(test)))

    assert compile_pipeline(other) is None


def test_the_loaded_model_is_checked_and_compiled(seed, tmp_path):
    import mlflow

    from house_price.trust import allow_skops_load, trusted_types_for

    model, signature, test = seed
    path = tmp_path / "model"
    mlflow.sklearn.save_model(model, path, serialization_format="skops",
                              skops_trusted_types=trusted_types_for(model), signature=signature)
    with allow_skops_load():
        loaded = mlflow.pyfunc.load_model(str(path))

    fast = verified_fast_path(loaded, served(test.head(5), signature.inputs))

    assert fast is not None
    inputs = served(test, signature.inputs)
    np.testing.assert_allclose(fast(inputs), loaded.predict(pd.DataFrame(inputs)), atol=1e-6)


@pytest.mark.slow
def test_the_served_seed_predicts_with_the_compiled_pipeline(model_server):
    log = model_server.log.read_text()

    assert "predicts /invocations requests with the compiled pipeline" in log
