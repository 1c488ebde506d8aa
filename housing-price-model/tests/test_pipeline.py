"""The tutorial's pipeline: its steps, and the seed figures reproduced on the real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from house_price.data import load_test, load_train
from house_price.errors import UnknownModelError
from house_price.models import get_model_config
from house_price.pipeline import column_groups, features_and_target, sparse_columns
from house_price.train import train_model

TUTORIAL_FIRST_FIVE = [128528.33, 154789.5, 179432.35, 187597.95, 204727.06]


def test_sparse_columns_uses_strictly_more_than_threshold():
    frame = pd.DataFrame({"a": [None, None, 1, 1], "b": [None, 1, 1, 1], "c": [1, 2, 3, 4]})

    assert sparse_columns(frame, threshold=0.3) == ["a"]
    assert sparse_columns(frame, threshold=0.5) == []


def test_column_groups_are_plain_lists_split_by_dtype(synthetic_data_dir):
    X, _ = features_and_target(load_train(synthetic_data_dir))

    numeric, categorical = column_groups(X)

    assert type(numeric) is list and type(categorical) is list
    assert "LotArea" in numeric and "Neighborhood" in categorical
    assert len(numeric) + len(categorical) == X.shape[1] == 79


def test_seed_fits_synthetic_data_and_ignores_extra_columns(synthetic_data_dir):
    result = train_model(load_train(synthetic_data_dir), "seed")
    test = load_test(synthetic_data_dir)
    test.loc[0, "Neighborhood"] = "Atlantis"

    predictions = result.model.predict(test)

    assert len(predictions) == len(test)
    assert np.isfinite(predictions).all()
    assert set(result.metrics) == {"RMSE", "MAE"}


def test_seed_reproduces_tutorial_figures(real_data_dir):
    result = train_model(load_train(real_data_dir), "seed")
    predictions = result.model.predict(load_test(real_data_dir))

    assert round(result.metrics["RMSE"], 2) == 28413.02
    assert round(result.metrics["MAE"], 2) == 17463.92
    assert result.dropped == ["Alley", "MasVnrType", "FireplaceQu", "PoolQC", "Fence",
                              "MiscFeature"]
    np.testing.assert_allclose(np.round(predictions[:5], 2), TUTORIAL_FIRST_FIVE)


def test_unknown_model_name_lists_known_ones():
    with pytest.raises(UnknownModelError, match=r"choose one of: .*seed"):
        get_model_config("gpt")
