"""Predict with a fitted pipeline's own numbers, without its per-call overhead.

For a 1-row request the seed pipeline spends about 22 ms in scikit-learn, nearly all of it in
overhead around tiny computations: DataFrames built and checked between the steps (pandas
output), the one-hot encoder validating each column separately, a joblib task per tree. Here
the fitted parameters (imputer statistics, encoder categories, the trees) are applied with numpy,
column by column, computing what those steps compute; the trees are scikit-learn's own.

Only these fitted types are covered: ``Pipeline`` of ``ColumnTransformer`` steps holding
``SimpleImputer`` (missing value NaN, no indicator), ``OneHotEncoder`` (unknown categories
ignored, no dropped or infrequent categories) or passthrough, then a single-output
``RandomForestRegressor`` or ``ExtraTreesRegressor``. Anything else compiles to None, and so
does a compiled predictor whose predictions differ from the pipeline's by more than
``TOLERANCE`` on the checks of ``verified_fast_path``: the runtime then predicts as MLflow does.

Runs inside the model server: imports only the standard library, numpy, pandas, scikit-learn.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

log = logging.getLogger(__name__)

TOLERANCE = 1e-6
UNSEEN = "\x00unseen category"

# Columns by name, as ``validation.read_request`` returns a request's inputs.
Columns = dict[str, np.ndarray]
Predictor = Callable[[Columns], np.ndarray]
# A compiled transformer: input columns in, output columns out, and how many it outputs.
Compiled = tuple[Callable[[list[np.ndarray]], list[np.ndarray]], int]


def compile_pipeline(model) -> Predictor | None:
    """Return a function predicting as ``model`` does, or None if ``model`` is not covered."""
    if not isinstance(model, Pipeline) or len(model.steps) < 2:
        return None
    steps = [_compile_columns(step) for _, step in model.steps[:-1]]
    final = _compile_forest(model.steps[-1][1])
    if final is None or any(step is None for step in steps):
        return None

    def predict(columns: Columns) -> np.ndarray:
        for step in steps:
            columns = step(columns)
        return final(columns)

    return predict


def verified_fast_path(pyfunc_model, example: Columns) -> Predictor | None:
    """Compile the model under ``pyfunc_model`` and check it against the model itself.

    ``example`` holds rows as the server passes them (typed like the signature). They are
    predicted as they are, with every value missing, and with every text value unseen, by both;
    any difference above ``TOLERANCE`` rejects the compiled predictor.
    """
    try:
        fast = compile_pipeline(pyfunc_model.get_raw_model())
    except Exception:  # an unexpected fitted object: predicting as MLflow does is always right
        log.exception("Cannot compile the model's pipeline; predicting through MLflow")
        return None
    if fast is None:
        log.info("The model's pipeline is not one fastpath covers; predicting through MLflow")
        return None
    for name, rows in _checks(example).items():
        try:
            expected = np.asarray(pyfunc_model.predict(pd.DataFrame(rows)), dtype=np.float64)
            difference = float(np.max(np.abs(fast(rows) - expected)))
        except Exception:
            log.exception("Cannot compare the compiled pipeline on the %s rows; predicting "
                          "through MLflow", name)
            return None
        if not difference <= TOLERANCE:
            log.warning("The compiled pipeline differs by %g on the %s rows; predicting through "
                        "MLflow", difference, name)
            return None
    log.info("Predicting with the compiled pipeline (checked on the input example)")
    return fast


def _checks(example: Columns) -> dict[str, Columns]:
    missing, unseen = {}, {}
    for name, values in example.items():
        text = values.dtype == object
        missing[name] = np.full(len(values), np.nan, dtype=values.dtype if text else np.float64)
        unseen[name] = np.full(len(values), UNSEEN, dtype=object) if text else values
    return {"example": example, "all-missing": missing, "unseen-category": unseen}


def _compile_columns(step) -> Callable[[Columns], Columns] | None:
    if not isinstance(step, ColumnTransformer):
        return None
    parts, width = [], 0
    for _, transformer, selection in step.transformers_:
        names = _selected_names(step, selection)
        if names is None:
            return None
        if transformer == "drop" or not names:
            continue
        compiled = _compile_transformer(transformer, len(names))
        if compiled is None:
            return None
        parts.append((names, compiled[0]))
        width += compiled[1]
    output_names = [str(name) for name in step.get_feature_names_out()]
    if len(output_names) != width:
        return None

    def transform(columns: Columns) -> Columns:
        outputs: list[np.ndarray] = []
        for names, apply in parts:
            outputs.extend(apply([columns[name] for name in names]))
        return dict(zip(output_names, outputs, strict=True))

    return transform


def _selected_names(step: ColumnTransformer, selection) -> list[str] | None:
    """Return the column names a transformer of ``step`` reads, None if not a plain list."""
    if isinstance(selection, np.ndarray):
        selection = selection.tolist()
    if not isinstance(selection, list):
        return None
    if all(isinstance(item, str) for item in selection):
        return selection
    if all(isinstance(item, int) and not isinstance(item, bool) for item in selection):
        return [str(step.feature_names_in_[item]) for item in selection]
    return None


def _compile_transformer(transformer, count: int) -> Compiled | None:
    if transformer == "passthrough" or _is_identity(transformer):
        return (lambda arrays: arrays), count
    if isinstance(transformer, SimpleImputer):
        return _compile_imputer(transformer, count)
    if isinstance(transformer, OneHotEncoder):
        return _compile_one_hot(transformer, count)
    return None


def _is_identity(transformer) -> bool:
    return (isinstance(transformer, FunctionTransformer) and transformer.func is None
            and transformer.inverse_func is None)


def _is_missing_marker(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _compile_imputer(imputer: SimpleImputer, count: int) -> Compiled | None:
    statistics = list(imputer.statistics_)
    if (not _is_missing_marker(imputer.missing_values) or imputer.add_indicator
            or len(statistics) != count or any(pd.isna(value) for value in statistics)):
        return None

    def fill(arrays: list[np.ndarray]) -> list[np.ndarray]:
        return [_fill(values, value) for values, value in zip(arrays, statistics, strict=True)]

    return fill, count


def _fill(values: np.ndarray, value) -> np.ndarray:
    if values.dtype.kind in "fiu":
        numbers = values.astype(np.float64)
        return np.where(np.isnan(numbers), value, numbers)
    values = values.astype(object)
    return np.where(pd.isna(values), value, values)


def _compile_one_hot(encoder: OneHotEncoder, count: int) -> Compiled | None:
    categories = encoder.categories_
    covered = (encoder.handle_unknown == "ignore" and encoder.drop is None
               and encoder.min_frequency is None and encoder.max_categories is None
               and len(categories) == count
               and not any(pd.isna(value) for column in categories for value in column))
    if not covered:
        return None
    lookups = [{value: place for place, value in enumerate(column)} for column in categories]
    offsets = np.cumsum([0, *(len(column) for column in categories)])
    dtype = encoder.dtype

    def encode(arrays: list[np.ndarray]) -> list[np.ndarray]:
        rows = len(arrays[0])
        block = np.zeros((rows, offsets[-1]), dtype=dtype)
        for lookup, offset, values in zip(lookups, offsets, arrays, strict=False):
            codes = np.fromiter((lookup.get(value, -1) for value in values), np.int64, rows)
            known = codes >= 0
            block[np.flatnonzero(known), offset + codes[known]] = 1
        return list(block.T)

    return encode, int(offsets[-1])


def _compile_forest(forest) -> Callable[[Columns], np.ndarray] | None:
    if (not isinstance(forest, RandomForestRegressor | ExtraTreesRegressor)
            or forest.n_outputs_ != 1 or not hasattr(forest, "feature_names_in_")):
        return None
    names = [str(name) for name in forest.feature_names_in_]
    trees = list(forest.estimators_)

    def predict(columns: Columns) -> np.ndarray:
        # As RandomForestRegressor.predict: float32 input, tree outputs summed in order (what
        # DecisionTreeRegressor.predict returns for one output is tree_.predict's column 0).
        features = np.column_stack([columns[name] for name in names])
        features = np.ascontiguousarray(features, dtype=np.float32)
        total = np.zeros(len(features), dtype=np.float64)
        for tree in trees:
            total += tree.tree_.predict(features)[:, 0]
        return total / len(trees)

    return predict
