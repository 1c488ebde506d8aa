"""Save and load models with skops and the reviewed trusted types, never with pickle."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from house_price.errors import UserError
from house_price.serving.trusted import REVIEWED_TYPES, allow_skops_load

log = logging.getLogger(__name__)


class UnreviewedTypesError(UserError):
    """An estimator that needs skops types nobody has reviewed."""


def trusted_types_for(estimator) -> list[str]:
    """Return the reviewed types ``estimator`` needs to be loaded back.

    Raises:
        UnreviewedTypesError: it needs a type missing from ``REVIEWED_TYPES``.
    """
    import skops.io

    needed = skops.io.get_untrusted_types(data=skops.io.dumps(estimator))
    unreviewed = sorted(set(needed) - set(REVIEWED_TYPES))
    if unreviewed:
        raise UnreviewedTypesError(
            f"the model needs types nobody has reviewed: {', '.join(unreviewed)}; review them "
            "and add them to REVIEWED_TYPES in house_price/serving/trusted.py"
        )
    return sorted(needed)


def load_pyfunc(model_uri: str):
    """Download ``model_uri``, check it with ``check_model_dir`` and load it as a pyfunc.

    The download goes to a temporary folder, removed once the model is in memory.

    Raises:
        ModelNotFoundError, TrackingServerUnavailable, UntrustedModelError: see
            ``house_price.context.download_model``.
    """
    import mlflow

    from house_price.context import download_model

    with tempfile.TemporaryDirectory(prefix="house-price-model-") as scratch:
        local = download_model(model_uri, Path(scratch))
        with allow_skops_load():
            model = mlflow.pyfunc.load_model(str(local))
    log.info("Loaded %s", model_uri)
    return model
