"""Feature engineering for raw Kaggle rows, as scikit-learn transformers saved inside the model.

This module lives in ``serving`` because a fitted model stores these transformers by their
dotted class path: whatever loads the model (MLflow in process, MLServer in the image) must be
able to import ``house_price.serving.features``. Like the rest of ``serving`` it imports only
numpy, pandas, scikit-learn and the standard library.

Every transformer accepts rows with missing values anywhere, including rows where every cell is
missing, and values it never saw in training: unknown quality labels become missing numbers,
which the imputer after them fills.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted, validate_data

# Categories whose missing value means "the house has none" (data_description.txt: "NA  No
# Garage", "NA  No Basement", ...). MasVnrType is here because the loader reads its level
# "None" as missing.
ABSENT_CATEGORIES = (
    "Alley", "BsmtQual", "BsmtCond", "BsmtExposure", "BsmtFinType1", "BsmtFinType2",
    "FireplaceQu", "GarageType", "GarageFinish", "GarageQual", "GarageCond", "PoolQC", "Fence",
    "MiscFeature", "MasVnrType",
)
# Areas and counts that are missing when the thing they measure is absent (test.csv leaves the
# basement figures of a house without a basement empty).
ABSENT_AMOUNTS = (
    "MasVnrArea", "BsmtFinSF1", "BsmtFinSF2", "BsmtUnfSF", "TotalBsmtSF", "BsmtFullBath",
    "BsmtHalfBath", "GarageCars", "GarageArea",
)
NONE = "None"

_QUALITY = {NONE: 0, "Po": 1, "Fa": 2, "TA": 3, "Gd": 4, "Ex": 5}
_BASEMENT_FINISH = {NONE: 0, "Unf": 1, "LwQ": 2, "Rec": 3, "BLQ": 4, "ALQ": 5, "GLQ": 6}
# Ordinal scales of data_description.txt, worst to best.
ORDINAL_SCALES: dict[str, dict[str, int]] = {
    **dict.fromkeys(
        ("ExterQual", "ExterCond", "BsmtQual", "BsmtCond", "HeatingQC", "KitchenQual",
         "FireplaceQu", "GarageQual", "GarageCond", "PoolQC"),
        _QUALITY,
    ),
    "BsmtExposure": {NONE: 0, "No": 1, "Mn": 2, "Av": 3, "Gd": 4},
    "BsmtFinType1": _BASEMENT_FINISH,
    "BsmtFinType2": _BASEMENT_FINISH,
    "GarageFinish": {NONE: 0, "Unf": 1, "RFn": 2, "Fin": 3},
    "Functional": {"Sal": 0, "Sev": 1, "Maj2": 2, "Maj1": 3, "Mod": 4, "Min2": 5, "Min1": 6,
                   "Typ": 7},
    "PavedDrive": {"N": 0, "P": 1, "Y": 2},
    "CentralAir": {"N": 0, "Y": 1},
}

PORCHES = ("OpenPorchSF", "EnclosedPorch", "3SsnPorch", "ScreenPorch", "WoodDeckSF")


Columns = dict[str, np.ndarray]


class FrameTransformer(TransformerMixin, BaseEstimator):
    """Base of the transformers that take and return a pandas DataFrame, column names kept.

    Subclasses work on ``{name: 1-D array}``: per-column pandas operations cost tens of
    microseconds each, which adds up to milliseconds for a single served row, while numpy on
    small arrays costs next to nothing. They must replace arrays, never modify them in place:
    numeric arrays are views of the caller's frame.
    """

    def fit(self, X: pd.DataFrame, y=None):
        """Remember the input columns; subclasses that learn something extend this."""
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return a new frame with the transformed and added columns; ``X`` is left as it is."""
        check_is_fitted(self, "feature_names_in_")
        columns = {name: X[name].to_numpy() for name in X.columns}
        self._transform(columns)
        return pd.DataFrame(columns, index=X.index)

    def _transform(self, columns: Columns) -> None:
        raise NotImplementedError


def _numbers(values: np.ndarray) -> np.ndarray:
    """Return ``values`` as floats, missing values as ``nan``."""
    return pd.to_numeric(values, errors="coerce").astype("float64")


class FillByMeaning(FrameTransformer):
    """Fill the missing values that mean "none" with ``"None"`` or 0, as the data documents.

    Missing text comes out as ``nan`` whether a client sent ``None`` or ``NaN``, and a text
    column that arrives as numbers because all of it is missing comes out as text.
    A missing ``GarageYrBlt`` becomes the year the house was built: no garage is better
    described as old as the house than as built in year 0.
    """

    def _transform(self, columns: Columns) -> None:
        for name, values in columns.items():
            # An all-missing text column can arrive as float64: it is still text.
            if name in ABSENT_CATEGORIES or not pd.api.types.is_numeric_dtype(values.dtype):
                text = values.astype(object)
                text[pd.isna(text)] = NONE if name in ABSENT_CATEGORIES else np.nan
                columns[name] = text
            elif name in ABSENT_AMOUNTS:
                numbers = _numbers(values)
                columns[name] = np.where(np.isnan(numbers), 0.0, numbers)
        if "GarageYrBlt" in columns and "YearBuilt" in columns:
            garage = _numbers(columns["GarageYrBlt"])
            columns["GarageYrBlt"] = np.where(np.isnan(garage), _numbers(columns["YearBuilt"]),
                                              garage)


class GroupMedianImputer(FrameTransformer):
    """Fill ``column`` with the training median of its ``by`` group.

    ``LotFrontage`` by ``Neighborhood``: lots on one street are alike. A group unseen in
    training, or a missing group, falls back to the overall median.
    """

    def __init__(self, column: str = "LotFrontage", by: str = "Neighborhood"):
        self.column = column
        self.by = by

    def fit(self, X: pd.DataFrame, y=None):
        """Learn the median of ``column`` per group and overall."""
        super().fit(X)
        values = pd.Series(_numbers(X[self.column].to_numpy()), index=X.index)
        medians = values.groupby(X[self.by].astype(object)).median().dropna()
        self.medians_ = {str(key): float(value) for key, value in medians.items()}
        overall = values.median()
        self.overall_median_ = float(overall) if pd.notna(overall) else 0.0
        return self

    def _transform(self, columns: Columns) -> None:
        values = _numbers(columns[self.column])
        missing = np.flatnonzero(np.isnan(values))
        if missing.size:
            groups = columns[self.by]
            values = values.copy()
            values[missing] = [self.medians_.get(groups[i], self.overall_median_)
                               for i in missing]
        columns[self.column] = values


class OrdinalScales(FrameTransformer):
    """Add the rank of each ordinal label (Po..Ex, Unf..GLQ, ...) as ``<column>Rank``, worst 0.

    The label stays for the one-hot encoder: the rank gives a linear model one trend across the
    scale, the label lets a level depart from it (both together cross-validate better than
    either alone). A label outside the documented scale ranks as missing, for the imputer.
    """

    def _transform(self, columns: Columns) -> None:
        for name, scale in ORDINAL_SCALES.items():
            if name in columns:
                ranks = [scale.get(label, np.nan) if isinstance(label, str) else np.nan
                         for label in columns[name]]
                columns[f"{name}Rank"] = np.asarray(ranks, dtype="float64")


class CombinedFeatures(FrameTransformer):
    """Add totals and ages that a linear model cannot build from the raw columns.

    Adds ``TotalSF`` (basement and both floors), ``TotalBath`` (half baths count one half),
    ``PorchSF``, ``AgeAtSale``, ``YearsSinceRemodel``, ``Remodeled`` and 0/1 flags for having
    a second floor, basement, garage, fireplace and pool. A missing input gives a missing
    feature, left to the imputer.
    """

    def _transform(self, columns: Columns) -> None:
        def get(name: str) -> np.ndarray:
            return _numbers(columns[name])

        columns["TotalSF"] = get("TotalBsmtSF") + get("1stFlrSF") + get("2ndFlrSF")
        columns["TotalBath"] = (get("FullBath") + get("BsmtFullBath")
                                + 0.5 * (get("HalfBath") + get("BsmtHalfBath")))
        columns["PorchSF"] = sum(get(name) for name in PORCHES)
        sold, built, remodelled = get("YrSold"), get("YearBuilt"), get("YearRemodAdd")
        columns["AgeAtSale"] = np.clip(sold - built, 0, None)
        columns["YearsSinceRemodel"] = np.clip(sold - remodelled, 0, None)
        columns["Remodeled"] = _flag(remodelled != built, remodelled + built)
        for flag, amount in (("Has2ndFlr", "2ndFlrSF"), ("HasBsmt", "TotalBsmtSF"),
                             ("HasGarage", "GarageArea"), ("HasFireplace", "Fireplaces"),
                             ("HasPool", "PoolArea")):
            values = get(amount)
            columns[flag] = _flag(values > 0, values)


def _flag(condition: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """Return ``condition`` as 1.0/0.0, ``nan`` where ``inputs`` (any sum of them) is ``nan``."""
    return np.where(np.isnan(inputs), np.nan, condition.astype("float64"))


class FeatureChain(FrameTransformer):
    """Run ``FrameTransformer`` steps one after the other as a single pipeline step.

    The same as a ``Pipeline`` of them, but the row crosses from pandas to arrays and back once
    instead of once per step, which is most of their cost when a single row is served.
    """

    def __init__(self, steps: list[tuple[str, FrameTransformer]]):
        self.steps = steps

    def fit(self, X: pd.DataFrame, y=None):
        """Fit each step on the output of the steps before it."""
        super().fit(X)
        self.steps_ = []
        for name, step in self.steps:
            fitted = clone(step).fit(X)
            X = fitted.transform(X)
            self.steps_.append((name, fitted))
        return self

    def _transform(self, columns: Columns) -> None:
        for _, step in self.steps_:
            step._transform(columns)


class SkewCorrector(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Take ``log1p`` of the non-negative numeric columns whose training skewness exceeds
    ``threshold``.

    Works on arrays (it runs after the imputer) and lets missing values through. Values below
    zero, which training never had in those columns, are clipped to zero first so the
    logarithm stays defined.
    """

    def __init__(self, threshold: float = 0.75):
        self.threshold = threshold

    def __sklearn_tags__(self):
        """Declare that missing values pass through (the imputer may come after)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y=None):
        """Choose the columns to correct."""
        values = validate_data(self, X, dtype="float64", ensure_all_finite="allow-nan")
        frame = pd.DataFrame(values)
        skew = frame.skew().fillna(0.0).to_numpy()
        non_negative = (frame.min() >= 0).to_numpy()
        self.skewed_ = np.flatnonzero((skew > self.threshold) & non_negative)
        return self

    def transform(self, X):
        """Return a float array with the chosen columns log-transformed."""
        check_is_fitted(self, "skewed_")
        values = validate_data(self, X, dtype="float64", ensure_all_finite="allow-nan",
                               reset=False, copy=True)
        chosen = values[:, self.skewed_]
        values[:, self.skewed_] = np.log1p(np.clip(chosen, 0.0, None))
        return values


class CategoryIndicators(TransformerMixin, BaseEstimator):
    """One-hot encode text (and code) columns: one 0/1 column per level seen in training.

    A missing value or a level unseen in training encodes as all zeros. The same as
    scikit-learn's ``OneHotEncoder(handle_unknown="ignore")`` after an imputer, at a fraction of
    its cost on a single row: that encoder checks every column separately, tens of
    microseconds each, which made it the slowest step of serving one house.
    """

    def fit(self, X: pd.DataFrame, y=None):
        """Learn each column's levels, in sorted order."""
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.categories_ = [sorted(set(X[name].dropna().tolist()), key=str)
                            for name in self.feature_names_in_]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Return a float array with a column per (input column, level)."""
        check_is_fitted(self, "categories_")
        out = np.zeros((len(X), sum(map(len, self.categories_))))
        offset = 0
        for name, levels in zip(self.feature_names_in_, self.categories_, strict=True):
            position = {level: index for index, level in enumerate(levels)}
            found = np.fromiter((position.get(value, -1) for value in X[name].to_numpy()),
                                dtype=np.intp, count=len(X))
            rows = np.flatnonzero(found >= 0)
            out[rows, offset + found[rows]] = 1.0
            offset += len(levels)
        return out

    def get_feature_names_out(self, input_features=None):
        """Return ``<column>_<level>`` for every output column."""
        check_is_fitted(self, "categories_")
        return np.asarray([f"{name}_{level}" for name, levels
                           in zip(self.feature_names_in_, self.categories_, strict=True)
                           for level in levels], dtype=object)
