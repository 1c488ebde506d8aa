"""Assemble the feature engineering that the candidate models carry inside their pipeline.

The transformers themselves live in ``house_price.serving.features``, because a saved model
refers to them by module path and the model server must import them; this module only puts
them together, which happens at training time.
"""

from __future__ import annotations

import pandas as pd
from sklearn.base import TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import RobustScaler

from house_price.serving.features import (
    CategoryIndicators,
    CombinedFeatures,
    FeatureChain,
    FillByMeaning,
    GroupMedianImputer,
    OrdinalScales,
    SkewCorrector,
)

# Numbers that are codes, not quantities: MSSubClass 20, 60, 190 name dwelling types.
CODES = ("MSSubClass",)
SKEW_THRESHOLD = 0.75


def make_feature_chain() -> FeatureChain:
    """Return the DataFrame-to-DataFrame feature engineering as one chain of steps."""
    return FeatureChain([
        ("fill", FillByMeaning()),
        ("lot_frontage", GroupMedianImputer("LotFrontage", by="Neighborhood")),
        ("ordinal", OrdinalScales()),
        ("combine", CombinedFeatures()),
    ])


def engineer(X: pd.DataFrame) -> pd.DataFrame:
    """Fit and run the feature chain on ``X`` (to see which columns it makes)."""
    return make_feature_chain().fit_transform(X)


def encoded_groups(engineered: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Split engineered columns into numeric and categorical names (plain lists, for skops)."""
    numeric = [name for name in engineered.select_dtypes("number").columns
               if name not in CODES]
    categorical = [name for name in engineered.columns if name not in numeric]
    return numeric, categorical


def make_encoder(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    """Impute, correct skew and scale the numbers; one-hot encode the categories.

    ``RobustScaler``: a few huge lots and porches would dominate a mean/std scaling. A missing
    or unseen category encodes as all zeros. Columns not listed (``Id``) are dropped.
    """
    numbers = Pipeline([
        ("impute", SimpleImputer(strategy="median")),
        ("skew", SkewCorrector(threshold=SKEW_THRESHOLD)),
        ("scale", RobustScaler()),
    ])
    return ColumnTransformer(
        [("num", numbers, numeric), ("cat", CategoryIndicators(), categorical)],
        remainder="drop",
    )


def feature_pipeline_steps(X: pd.DataFrame) -> list[tuple[str, TransformerMixin]]:
    """Return the feature chain followed by an encoder for the columns they make from ``X``."""
    return [("features", make_feature_chain()),
            ("encode", make_encoder(*encoded_groups(engineer(X))))]
