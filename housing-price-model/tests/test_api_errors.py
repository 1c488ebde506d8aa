"""Client mistakes against a real MLServer: a 4xx whose message is in the client's terms, and the
server goes on serving; what is valid is answered exactly as the model predicts in process."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import requests

from house_price.client import to_dataframe_split
from house_price.data import as_model_input
from house_price.trust import load_pyfunc

pytestmark = pytest.mark.slow

JSON = "application/json"


@pytest.fixture(scope="module")
def raw(real_data_dir) -> pd.DataFrame:
    """Three rows of test.csv as pandas reads it: Id, dropped columns, ints, NaN."""
    return pd.read_csv(real_data_dir / "test.csv").head(3)


@pytest.fixture(scope="module")
def in_process(seed_run):
    return load_pyfunc(seed_run[1].registered_uri)


def post(server, body, content_type: str = JSON) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(f"{server.url}/invocations", data=data, timeout=60,
                         headers={"Content-Type": content_type})


def split(frame: pd.DataFrame) -> dict:
    return to_dataframe_split(frame)


def with_cell(frame: pd.DataFrame, column: str, value) -> dict:
    body = split(frame.head(1))
    body["dataframe_split"]["data"][0][list(frame.columns).index(column)] = value
    return body


def body_limit(server) -> int:
    settings = next(server.context.rglob("model-settings.json"))
    return json.loads(settings.read_text())["parameters"]["extra"]["max_body_bytes"]


def refused_cases(raw: pd.DataFrame) -> dict:
    """Category -> (body, content type, status, words the error must contain)."""
    columns = list(raw.columns)
    ragged = split(raw)
    ragged["dataframe_split"]["data"][1] = ragged["dataframe_split"]["data"][1][:-2]
    twice = split(raw.head(1))
    twice["dataframe_split"]["columns"].append("LotArea")
    twice["dataframe_split"]["data"][0].append(1.0)
    first = split(raw.head(1))["dataframe_split"]
    return {
        "malformed-json": (b'{"dataframe_split": {', JSON, 400, ["not valid JSON"]),
        "empty-body": (b"", JSON, 400, ["empty", "dataframe_split"]),
        "unknown-key": ({**split(raw), "rows": []}, JSON, 400, ['"rows"']),
        "missing-key": ({"params": {}}, JSON, 400, ["dataframe_records", "text/csv"]),
        "split-without-data": ({"dataframe_split": {"columns": columns}}, JSON, 400,
                               ['"data" is missing']),
        "ragged-rows": (ragged, JSON, 400, ["row 2", f"names {len(columns)}"]),
        "missing-columns": (split(raw.drop(columns=["LotArea", "Neighborhood"])), JSON, 422,
                            ["missing 2 required columns", "LotArea", "Neighborhood"]),
        "text-in-number": (with_cell(raw, "LotArea", "big"), JSON, 422,
                           ["'LotArea'", "expected a number", "'big'"]),
        "list-in-number": (with_cell(raw, "OverallQual", [7]), JSON, 422,
                           ["'OverallQual'", "a list"]),
        "object-in-category": (with_cell(raw, "Neighborhood", {"name": "NAmes"}), JSON, 422,
                               ["'Neighborhood'", "expected text", "an object"]),
        "unsupported-content-type": (split(raw), "text/plain", 415,
                                     ["text/plain", "application/json", "text/csv"]),
        "instances-wrong-shape": ({"instances": first["data"]}, JSON, 400,
                                  ['"instances"', "row 1", "a list"]),
        "inputs-wrong-shape": ({"inputs": dict(zip(columns, first["data"][0], strict=True))},
                               JSON, 400, ['"inputs"', "list of values"]),
        "empty-data": ({"dataframe_split": {"columns": columns, "data": []}}, JSON, 422,
                       ["no rows"]),
        "duplicated-columns": (twice, JSON, 400, ["'LotArea' appears twice"]),
        "out-of-range": (with_cell(raw, "GrLivArea", 1e39), JSON, 422,
                         ["'GrLivArea'", "out of range"]),
    }


CATEGORIES = [
    "malformed-json", "empty-body", "unknown-key", "missing-key", "split-without-data",
    "ragged-rows", "missing-columns", "text-in-number", "list-in-number", "object-in-category",
    "unsupported-content-type", "instances-wrong-shape", "inputs-wrong-shape", "empty-data",
    "duplicated-columns", "out-of-range",
]


@pytest.mark.parametrize("category", CATEGORIES)
def test_client_error_is_a_4xx_naming_the_problem_and_serving_goes_on(
        model_server, raw, category):
    body, content_type, status, words = refused_cases(raw)[category]

    response = post(model_server, body, content_type)

    assert response.status_code == status, response.text[:500]
    message = response.json()["error"]
    for word in words:
        assert word in message
    assert post(model_server, split(raw.head(1))).status_code == 200


def chunks(total: int, size: int = 1 << 20):
    """Yield ``total`` bytes of spaces: requests sends them chunked, with no Content-Length."""
    while total > 0:
        yield b" " * min(size, total)
        total -= size


@pytest.mark.parametrize("sent", ["with-length", "chunked"])
def test_body_above_the_limit_is_a_413_and_serving_goes_on(model_server, raw, sent):
    limit = body_limit(model_server)
    body = b" " * (limit + 1) if sent == "with-length" else chunks(limit + 1)

    response = requests.post(f"{model_server.url}/invocations", data=body, timeout=60,
                             headers={"Content-Type": JSON})

    assert response.status_code == 413
    assert f"limit of {limit} bytes" in response.json()["error"]
    assert post(model_server, split(raw.head(1))).status_code == 200


def records(frame: pd.DataFrame) -> list[dict]:
    body = split(frame)["dataframe_split"]
    return [dict(zip(body["columns"], row, strict=True)) for row in body["data"]]


def by_column(frame: pd.DataFrame) -> dict[str, list]:
    body = split(frame)["dataframe_split"]
    return {name: [row[place] for row in body["data"]]
            for place, name in enumerate(body["columns"])}


def all_null(raw: pd.DataFrame) -> pd.DataFrame:
    row = raw.head(1).copy()
    for column in row.columns:
        numeric = pd.api.types.is_numeric_dtype(row[column])
        row[column] = np.nan if numeric else pd.Series([np.nan], dtype=object)
    return row


def unseen(raw: pd.DataFrame) -> pd.DataFrame:
    return raw.assign(Neighborhood="Atlantis", MSZoning="Z")


# Layout -> what the model is given in process, and the request (body, content type).
VALID = {
    "split-with-id-and-nulls": lambda raw: (raw, split(raw), JSON),
    "all-null-row": lambda raw: (all_null(raw), split(all_null(raw)), JSON),
    "unseen-categories": lambda raw: (unseen(raw), split(unseen(raw)), JSON),
    "extra-column": lambda raw: (raw, split(raw.assign(Comment="corner lot")), JSON),
    "dataframe-records": lambda raw: (raw, {"dataframe_records": records(raw)}, JSON),
    "instances": lambda raw: (raw, {"instances": records(raw)}, JSON),
    "inputs": lambda raw: (raw, {"inputs": by_column(raw)}, JSON),
    "csv": lambda raw: (raw, raw.to_csv(index=False).encode(), "text/csv"),
}


@pytest.mark.parametrize("layout", VALID)
def test_valid_request_is_answered_as_predicted_in_process(model_server, raw, in_process,
                                                           layout):
    frame, body, content_type = VALID[layout](raw)

    response = post(model_server, body, content_type)

    assert response.status_code == 200, response.text[:500]
    expected = in_process.predict(as_model_input(frame))
    np.testing.assert_allclose(response.json()["predictions"], expected, rtol=0, atol=1e-6)
