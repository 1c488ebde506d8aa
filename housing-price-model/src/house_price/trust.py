"""Save and load models with skops and a reviewed list of trusted types, never with pickle.

MLflow's skops loader trusts whatever list the model's own ``MLmodel`` file carries, and since
MLflow 3.17 it refuses to load any model unless ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` is set.
``load_pyfunc`` sets that flag only after it has checked that the model is a skops model whose
trusted types are all in ``REVIEWED_TYPES`` below.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path

import yaml

from house_price.errors import UserError

log = logging.getLogger(__name__)

# Types skops does not trust by default but our estimators need. Each one was reviewed: it is a
# plain data container whose loader builds no callable from the file. Add a type here only after
# reading what skops does to load it.
REVIEWED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
)

ALLOW_FLAG = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"


class UntrustedModelError(UserError):
    """A model that is not skops, or that needs types nobody has reviewed."""


def trusted_types_for(estimator) -> list[str]:
    """Return the reviewed types ``estimator`` needs to be loaded back.

    Raises:
        UntrustedModelError: it needs a type missing from ``REVIEWED_TYPES``.
    """
    import skops.io

    needed = skops.io.get_untrusted_types(data=skops.io.dumps(estimator))
    unreviewed = sorted(set(needed) - set(REVIEWED_TYPES))
    if unreviewed:
        raise UntrustedModelError(
            f"the model needs types nobody has reviewed: {', '.join(unreviewed)}; review them "
            "and add them to REVIEWED_TYPES in house_price/trust.py"
        )
    return sorted(needed)


def check_model_dir(model_dir: str | os.PathLike) -> None:
    """Check that a downloaded MLflow model is skops and trusts only reviewed types.

    Raises:
        UntrustedModelError: pickle or cloudpickle format, or unreviewed trusted types.
    """
    mlmodel = yaml.safe_load((Path(model_dir) / "MLmodel").read_text())
    flavor = mlmodel.get("flavors", {}).get("sklearn", {})
    if flavor.get("serialization_format") != "skops":
        raise UntrustedModelError(
            f"{model_dir} is not a skops model (format: {flavor.get('serialization_format')}); "
            "only skops models are loaded. Retrain it with `house-price train`."
        )
    unreviewed = sorted(set(flavor.get("skops_trusted_types") or []) - set(REVIEWED_TYPES))
    if unreviewed:
        raise UntrustedModelError(
            f"{model_dir} trusts types nobody has reviewed: {', '.join(unreviewed)}"
        )


@contextmanager
def allow_skops_load():
    """Let MLflow deserialize inside this block only; restore the flag afterwards."""
    previous = os.environ.get(ALLOW_FLAG)
    os.environ[ALLOW_FLAG] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ALLOW_FLAG, None)
        else:
            os.environ[ALLOW_FLAG] = previous


def load_pyfunc(model_uri: str):
    """Download ``model_uri``, check it with ``check_model_dir`` and load it as a pyfunc."""
    import mlflow

    local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri)
    check_model_dir(local)
    with allow_skops_load():
        model = mlflow.pyfunc.load_model(local)
    log.info("Loaded %s", model_uri)
    return model
