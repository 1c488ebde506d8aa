"""Parsing of the Kaggle files: NA semantics, dtypes, where the files are looked for."""

from __future__ import annotations

import pandas as pd
import pytest

from house_price.data import DATA_ENV, as_model_input, data_dir, load_test, load_train
from house_price.errors import DataNotFoundError

# Integers in train.csv that hold missing values in test.csv.
INT_IN_TRAIN_NULL_IN_TEST = [
    "BsmtFinSF1", "BsmtFinSF2", "BsmtUnfSF", "TotalBsmtSF",
    "BsmtFullBath", "BsmtHalfBath", "GarageCars", "GarageArea",
]


def test_na_text_becomes_missing_value(tmp_path):
    (tmp_path / "train.csv").write_text(
        "Id,Alley,MasVnrType,LotArea,SalePrice\n1,NA,None,8450,208500\n2,Pave,BrkFace,9600,1\n"
    )

    train = load_train(tmp_path)

    assert train["Alley"].isna().tolist() == [True, False]
    assert train["MasVnrType"].isna().tolist() == [True, False]


def test_numeric_features_are_float_but_id_and_target_stay_integers(tmp_path):
    (tmp_path / "train.csv").write_text("Id,LotArea,Street,SalePrice\n1,8450,Pave,208500\n")

    train = load_train(tmp_path)

    assert train["LotArea"].dtype == "float64"
    assert train["Id"].dtype == "int64"
    assert train["SalePrice"].dtype == "int64"
    assert not pd.api.types.is_numeric_dtype(train["Street"])


def test_real_files_parse_with_documented_shapes_and_types(real_data_dir):
    train, test = load_train(real_data_dir), load_test(real_data_dir)

    assert train.shape == (1460, 81)
    assert test.shape == (1459, 80)
    assert test["Id"].tolist()[:2] == [1461, 1462]
    assert (test[INT_IN_TRAIN_NULL_IN_TEST].isna().sum() > 0).all()
    assert (train[INT_IN_TRAIN_NULL_IN_TEST].dtypes == "float64").all()
    assert train["PoolQC"].isna().sum() == 1453


def test_missing_file_names_directory_files_and_download_command(tmp_path):
    with pytest.raises(DataNotFoundError) as caught:
        load_train(tmp_path / "nowhere")

    message = str(caught.value)
    assert str(tmp_path / "nowhere") in message
    assert "train.csv and test.csv" in message
    assert "kaggle competitions download -c house-prices-advanced-regression-techniques" in message
    assert caught.value.exit_code == 2


def test_data_dir_prefers_argument_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "from-env"))

    assert data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert data_dir() == tmp_path / "from-env"
    monkeypatch.delenv(DATA_ENV)
    assert data_dir().parts[-2:] == ("housing-price-model", "data")


def test_as_model_input_casts_plain_read_csv_integers(real_data_dir):
    raw = pd.read_csv(real_data_dir / "test.csv")

    cast = as_model_input(raw)

    assert (raw["LotArea"].dtype, cast["LotArea"].dtype) == ("int64", "float64")
    assert cast["Id"].dtype == "int64"
