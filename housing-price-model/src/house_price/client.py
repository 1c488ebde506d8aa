"""Talk to the model server: build ``dataframe_split`` requests and post them in chunks."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd
import requests

from house_price.errors import UserError

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8080"
CHUNK_ROWS = 500
TIMEOUT = 60.0


class ServerUnavailableError(UserError):
    """No model server answers at the URL."""


class PredictionRequestError(UserError):
    """The server refused a request or answered something that is not predictions."""


def to_dataframe_split(frame: pd.DataFrame) -> dict:
    """Return ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}`` for ``frame``.

    Missing values (NaN, None, NA, NaT) become ``None`` (JSON ``null``) and numpy scalars
    become Python numbers, so ``json.dumps`` takes the result as it is.

    Raises:
        ValueError: an infinite number, which JSON cannot carry; the message names the column.
    """
    numeric = frame.select_dtypes("number")
    infinite = [str(c) for c in numeric.columns if np.isinf(numeric[c].to_numpy(float)).any()]
    if infinite:
        raise ValueError(f"column {infinite[0]!r} holds an infinite number, which JSON "
                         "cannot carry: replace it with a finite number or a missing value")
    cells = frame.astype(object).where(frame.notna(), None)
    data = [[_plain(value) for value in row] for row in cells.itertuples(index=False)]
    return {"dataframe_split": {"columns": [str(c) for c in frame.columns], "data": data}}


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def invocations_url(url: str) -> str:
    """Return the scoring endpoint for a server address or the endpoint itself."""
    url = url.rstrip("/")
    return url if url.endswith("/invocations") else f"{url}/invocations"


def _server_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "error_code"):
            if body.get(key):
                return str(body[key])[:500]
    return json.dumps(body)[:500]


def post_frame(
    url: str,
    frame: pd.DataFrame,
    *,
    chunk_rows: int = CHUNK_ROWS,
    timeout: float = TIMEOUT,
    session: requests.Session | None = None,
) -> np.ndarray:
    """Post ``frame`` as ``dataframe_split`` requests of ``chunk_rows`` rows; return predictions.

    Predictions come back in row order, one per row of ``frame``.

    Raises:
        ServerUnavailableError: nothing answers at ``url`` (or it timed out).
        PredictionRequestError: the server refused a chunk (its message and the rows are given)
            or answered with a number of predictions other than the number of rows sent.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    endpoint = invocations_url(url)
    session = session or requests.Session()
    parts = []
    chunks = max(1, math.ceil(len(frame) / chunk_rows))
    for index in range(chunks):
        chunk = frame.iloc[index * chunk_rows:(index + 1) * chunk_rows]
        parts.append(_post_chunk(session, endpoint, chunk, index * chunk_rows, timeout))
        log.debug("Chunk %d/%d: %d rows", index + 1, chunks, len(chunk))
    return np.concatenate(parts) if parts else np.array([], dtype=float)


def _post_chunk(session, endpoint: str, chunk: pd.DataFrame, first: int, timeout: float):
    rows = f"rows {first + 1}-{first + len(chunk)}"
    body = json.dumps(to_dataframe_split(chunk), allow_nan=False)
    try:
        response = session.post(endpoint, data=body, timeout=timeout,
                                headers={"Content-Type": "application/json"})
    except requests.ConnectionError:
        raise ServerUnavailableError(
            f"no model server answers at {endpoint}: start one with `house-price serve "
            "MODEL_URI` (or `docker compose up model`), or give its address with --url"
        ) from None
    except requests.Timeout:
        raise ServerUnavailableError(f"{endpoint} did not answer {rows} within {timeout:.0f} s: "
                                     "send fewer rows per request or raise the timeout") from None
    if response.status_code != 200:
        raise PredictionRequestError(f"{endpoint} refused {rows} with HTTP "
                                     f"{response.status_code}: {_server_message(response)}")
    return _predictions(response, endpoint, rows, len(chunk))


def _predictions(response: requests.Response, endpoint: str, rows: str, expected: int):
    try:
        values = np.asarray(response.json()["predictions"], dtype=float).reshape(-1)
    except (ValueError, KeyError, TypeError):
        raise PredictionRequestError(
            f"{endpoint} answered {rows} without a list of numbers under 'predictions': is it "
            f"the model server? It said: {response.text[:200]!r}"
        ) from None
    if len(values) != expected:
        raise PredictionRequestError(f"{endpoint} returned {len(values)} predictions for "
                                     f"{expected} rows ({rows})")
    return values
