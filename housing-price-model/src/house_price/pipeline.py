"""Build the tutorial's pipeline: impute, one-hot encode, random forest.

Each step has its own factory so the notebook can build, show and explain them one at a time;
``make_seed_pipeline`` assembles the same objects for the CLI and the tests.
"""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from house_price.data import ID, TARGET

MISSING_THRESHOLD = 0.3
TEST_SIZE = 0.2
RANDOM_STATE = 42


def sparse_columns(train: pd.DataFrame, threshold: float = MISSING_THRESHOLD) -> list[str]:
    """Return the columns of ``train`` with more than ``threshold`` of their values missing."""
    missing = train.isna().mean()
    return missing[missing > threshold].index.tolist()


def features_and_target(
    train: pd.DataFrame, drop: list[str] | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """Split ``train`` into features (without ``Id``, ``SalePrice`` and ``drop``) and target."""
    features = train.drop(columns=[ID, TARGET, *(drop or [])], errors="ignore")
    return features, train[TARGET]


def split(X: pd.DataFrame, y: pd.Series):
    """Hold out the tutorial's validation set: 20%, ``random_state=42``.

    Returns ``X_train, X_valid, y_train, y_valid`` like ``train_test_split``.
    """
    return train_test_split(X, y, test_size=TEST_SIZE, random_state=RANDOM_STATE)


def column_groups(X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Return the numeric and the categorical column names, as plain lists.

    Plain lists, not ``pd.Index``: the model is saved with skops, which cannot store an Index.
    """
    numeric = X.select_dtypes("number").columns.tolist()
    categorical = X.select_dtypes(exclude="number").columns.tolist()
    return numeric, categorical


def make_imputer(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    """Fill numbers with the median and categories with the most frequent value.

    Columns not listed are dropped, so the fitted pipeline accepts raw rows with ``Id`` and
    any other extra column.
    """
    return ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), numeric),
            ("cat", SimpleImputer(strategy="most_frequent"), categorical),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )


def make_one_hot(categorical: list[str]) -> ColumnTransformer:
    """One-hot encode the categories; categories unseen in training become all zeros."""
    encoder = OneHotEncoder(sparse_output=False, handle_unknown="ignore")
    return ColumnTransformer(
        [("cat", encoder, categorical)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )


def make_forest() -> RandomForestRegressor:
    """Return the tutorial's forest: 100 trees, ``random_state=42``."""
    return RandomForestRegressor(n_estimators=100, random_state=RANDOM_STATE)


def make_seed_pipeline(numeric: list[str], categorical: list[str]) -> Pipeline:
    """Assemble impute -> one-hot -> forest, with pandas output between the steps."""
    pipeline = Pipeline(
        [
            ("impute", make_imputer(numeric, categorical)),
            ("onehot", make_one_hot(categorical)),
            ("model", make_forest()),
        ]
    )
    return pipeline.set_output(transform="pandas")
