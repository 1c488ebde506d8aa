"""The reviewed skops types, and the check that a model trusts nothing else.

MLflow's skops loader trusts whatever list the model's own ``MLmodel`` file carries, and since
MLflow 3.17 it refuses to load any model unless ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` is set.
Loaders in this project set that flag only after ``check_model_dir`` has passed.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import yaml

# Types skops does not trust by default but our estimators need. Each was reviewed: a plain
# data container whose loader builds no callable from the file. Add a type here only after
# reading what skops does to load it.
REVIEWED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    # VotingRegressor.named_estimators_: a dict subclass. skops builds an empty Bunch and sets
    # its items from nodes that are checked on their own; nothing else comes from the file.
    "sklearn.utils._bunch.Bunch",
    # This project's feature transformers (house_price/serving/features.py, shipped with the
    # server). skops loads them as plain objects: ``__new__`` and then ``__dict__`` set from
    # checked nodes (parameters, column names, a dict of medians, lists of category levels,
    # arrays of column indices, the fitted steps of a chain). Their code is ours and runs
    # nothing at load time.
    "house_price.serving.features.CategoryIndicators",
    "house_price.serving.features.CombinedFeatures",
    "house_price.serving.features.FeatureChain",
    "house_price.serving.features.FillByMeaning",
    "house_price.serving.features.GroupMedianImputer",
    "house_price.serving.features.OrdinalScales",
    "house_price.serving.features.SkewCorrector",
)


ALLOW_FLAG = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"


class UntrustedModelError(Exception):
    """A model that is not skops, or that trusts types nobody has reviewed."""


def check_model_dir(model_dir: str | os.PathLike) -> None:
    """Check that a local MLflow model is skops and trusts only ``REVIEWED_TYPES``.

    Raises:
        UntrustedModelError: pickle or cloudpickle format, or unreviewed trusted types.
    """
    mlmodel = yaml.safe_load((Path(model_dir) / "MLmodel").read_text())
    flavor = mlmodel.get("flavors", {}).get("sklearn", {})
    if flavor.get("serialization_format") != "skops":
        raise UntrustedModelError(
            f"{model_dir} is not a skops model (format: {flavor.get('serialization_format')}); "
            "only skops models are loaded: retrain it with `house-price train`"
        )
    unreviewed = sorted(set(flavor.get("skops_trusted_types") or []) - set(REVIEWED_TYPES))
    if unreviewed:
        raise UntrustedModelError(
            f"{model_dir} trusts types nobody has reviewed: {', '.join(unreviewed)}; review "
            "them and add them to REVIEWED_TYPES in house_price/serving/trusted.py"
        )


@contextmanager
def allow_skops_load():
    """Set MLflow's opt-in flag inside the block only, so the process refuses it otherwise."""
    previous = os.environ.get(ALLOW_FLAG)
    os.environ[ALLOW_FLAG] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ALLOW_FLAG, None)
        else:
            os.environ[ALLOW_FLAG] = previous
