"""The MLServer runtime that serves the house-price model.

``model-settings.json`` names ``HousePriceRuntime`` as its implementation. It is MLServer's own
MLflow runtime with these changes: the model folder is checked before anything in it is
deserialized, and MLflow may deserialize only while this runtime loads the model; requests are
held to the model's signature (``validation``: a 4xx in the client's terms where MLflow's parsers
would raise a 500, and a body size limit); ``/invocations`` predicts with the compiled pipeline
(``fastpath``) when it is checked equal to the model.

``parameters.extra`` in ``model-settings.json`` may set ``max_body_bytes`` (413 above it) and
``fast_predict`` (false always predicts through MLflow's pyfunc).
"""

from __future__ import annotations

import json
from io import StringIO

import pandas as pd
from fastapi import Depends, Header, Response
from mlflow.pyfunc.scoring_server import predictions_to_json
from mlserver.handlers import custom_handler
from mlserver.logging import logger
from mlserver.settings import ModelSettings
from mlserver.types import InferenceRequest
from mlserver.utils import get_model_uri
from mlserver_mlflow import MLflowRuntime

from .fastpath import verified_fast_path
from .trusted import allow_skops_load, check_model_dir
from .validation import (
    DEFAULT_MAX_BODY_BYTES,
    RequestError,
    conform_frame,
    read_body,
    read_request,
    set_max_body_bytes,
)


class HousePriceRuntime(MLflowRuntime):
    """MLflow runtime that loads only skops models trusting the reviewed types."""

    def __init__(self, settings: ModelSettings):
        # Runs in MLServer's HTTP process too, where read_body enforces the limit.
        super().__init__(settings)
        extra = (settings.parameters.extra if settings.parameters else None) or {}
        set_max_body_bytes(extra.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES))
        self._compile = bool(extra.get("fast_predict", True))
        self._fast = None

    async def load(self) -> bool:
        """Check the model folder with ``check_model_dir``, let MLflow load it, compile it."""
        model_dir = await get_model_uri(self._settings)
        check_model_dir(model_dir)
        with allow_skops_load():
            loaded = await super().load()
        example = self._model.input_example
        if self._compile and isinstance(example, pd.DataFrame):
            self._fast = verified_fast_path(self._model,
                                            conform_frame(example, self._input_schema))
        how = "the compiled pipeline (fastpath)" if self._fast else "MLflow's pyfunc"
        logger.info("Model %s predicts /invocations requests with %s", self.name, how)
        return loaded

    def decode_request(self, payload: InferenceRequest, default_codec=None):
        """Decode a V2 ``/infer`` request, then hold it to the signature as ``/invocations`` does.

        Raised here, a ``RequestError`` keeps its 4xx status through MLServer's worker.
        """
        try:
            decoded = super().decode_request(payload, default_codec)
        except (ValueError, TypeError) as error:
            raise RequestError(f"the V2 inputs cannot be decoded: {error}") from None
        if isinstance(decoded, pd.DataFrame):
            return pd.DataFrame(conform_frame(decoded, self._input_schema))
        return decoded

    # MLServer routes only methods that carry the decorator's marker, and an override loses it,
    # so the route is declared again. Every /invocations request enters here: checks on the
    # request belong in this method, before MLflow parses anything.
    @custom_handler(rest_path="/invocations")
    async def invocations(
        self,
        raw_body: bytes = Depends(read_body),
        content_type: str = Header(default=""),
    ) -> Response:
        """Score a request in any format MLflow's scoring server accepts; refuse bad ones (4xx).

        A client mistake is answered here, as a JSON ``{"error": ...}``: raised, it would reach
        MLServer wrapped as a worker error, with a traceback in the log.
        """
        try:
            inputs, params = read_request(raw_body, content_type, self._input_schema)
        except RequestError as error:
            return Response(json.dumps({"error": error.message}), error.status_code,
                            media_type="application/json")
        if self._fast is not None and not params:
            predictions = self._fast(inputs)
        else:
            predictions = self._model.predict(pd.DataFrame(inputs), params=params)
        result = StringIO()
        predictions_to_json(predictions, result)
        return Response(content=result.getvalue(), media_type="application/json")
