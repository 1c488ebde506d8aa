"""Request validation without a server: what is read, what is refused, and in which words."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from mlflow.types import ColSpec, Schema

from house_price.serving.validation import (
    CSV_MISSING,
    RequestError,
    conform_frame,
    read_request,
)

SCHEMA = Schema([
    ColSpec("double", "LotArea"),
    ColSpec("string", "Street"),
    ColSpec("double", "LotFrontage", required=False),
    ColSpec("long", "Rooms"),
])
COLUMNS = ["Id", "LotArea", "Street", "LotFrontage", "Rooms"]
ROWS = [[1, 8450, "Pave", None, 7], [2, None, "Cobblestone", 65.5, 3]]
EXPECTED = pd.DataFrame({
    "LotArea": [8450.0, math.nan],
    "Street": ["Pave", "Cobblestone"],
    "LotFrontage": [math.nan, 65.5],
    "Rooms": [7, 3],
})
JSON = "application/json"


def read(body, content_type: str = JSON) -> pd.DataFrame:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    inputs, _ = read_request(data, content_type, SCHEMA)
    return pd.DataFrame(inputs)


def refusal(body, content_type: str = JSON) -> RequestError:
    with pytest.raises(RequestError) as caught:
        read(body, content_type)
    return caught.value


def records() -> list[dict]:
    return [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]


def csv_body() -> bytes:
    lines = ["Id,LotArea,Street,LotFrontage,Rooms", "1,8450,Pave,NA,7", "2,,Cobblestone,65.5,3"]
    return "\n".join(lines).encode()


@pytest.mark.parametrize(("body", "content_type"), [
    ({"dataframe_split": {"columns": COLUMNS, "data": ROWS}}, JSON),
    ({"dataframe_split": {"columns": COLUMNS, "data": ROWS, "index": [5, 6]}}, JSON),
    ({"dataframe_records": records()}, JSON),
    ({"instances": records()}, JSON),
    ({"inputs": {name: [row[i] for row in ROWS] for i, name in enumerate(COLUMNS)}}, JSON),
    ({"dataframe_records": records()}, "application/json; charset=UTF-8"),
    (csv_body(), "text/csv"),
], ids=["split", "split-index", "records", "instances", "inputs-columns", "charset", "csv"])
def test_every_format_reads_to_the_signature_columns(body, content_type):
    frame = read(body, content_type)

    pd.testing.assert_frame_equal(frame, EXPECTED, check_dtype=False)
    assert frame["LotArea"].dtype == np.float64
    assert frame["Rooms"].dtype == np.int64


def test_extra_columns_are_dropped_and_missing_optional_ones_become_null():
    body = {"dataframe_records": [{"LotArea": 1.0, "Street": "Grvl", "Rooms": 2, "Extra": "x"}]}

    frame = read(body)

    assert list(frame.columns) == ["LotArea", "Street", "LotFrontage", "Rooms"]
    assert frame["LotFrontage"].isna().all()


def test_nulls_nan_tokens_and_missing_record_keys_are_all_missing_values():
    body = (b'{"dataframe_records": [{"LotArea": NaN, "Street": null, "Rooms": 1}, '
            b'{"Rooms": 2, "LotFrontage": null}]}')

    frame = read(body)

    assert frame[["LotArea", "Street", "LotFrontage"]].isna().all().all()


def test_numbers_written_as_text_and_codes_written_as_numbers_are_accepted():
    frame = read({"dataframe_records": [{"LotArea": " 12.5 ", "Street": 20, "Rooms": "3"}]})

    assert frame.loc[0, "LotArea"] == 12.5
    assert frame.loc[0, "Street"] == "20"
    assert frame.loc[0, "Rooms"] == 3


def test_csv_reads_as_missing_exactly_what_pandas_reads_as_missing():
    from pandas._libs.parsers import STR_NA_VALUES

    cells = sorted(CSV_MISSING - {""})
    lines = ["LotArea,Street,Rooms", *(f"{cell},{cell},1" for cell in cells)]
    frame = read("\n".join(lines).encode(), "text/csv")

    assert CSV_MISSING == STR_NA_VALUES
    assert frame[["LotArea", "Street"]].isna().all().all()


def test_a_bom_and_blank_lines_in_csv_are_tolerated():
    frame = read(b"\xef\xbb\xbfLotArea,Street,Rooms\n\n1,Pave,2\n\n", "text/csv")

    assert frame.loc[0, "LotArea"] == 1.0


def split_row(**cells) -> dict:
    row = {"LotArea": 1.0, "Street": "Pave", "Rooms": 2, **cells}
    return {"dataframe_split": {"columns": list(row), "data": [list(row.values())]}}


# (body, content type, status, words the message must contain)
REFUSED = {
    "malformed-json": (b'{"dataframe_split": ', JSON, 400, ["not valid JSON", "line 1"]),
    "empty-body": (b"  ", JSON, 400, ["empty", "dataframe_split"]),
    "json-not-object": (b"[1, 2]", JSON, 400, ["a list", "JSON object"]),
    "not-utf8": (b'{"a": "\xff"}', JSON, 400, ["UTF-8"]),
    "unknown-key": ({"dataframe_split": {}, "rows": []}, JSON, 400, ['"rows"']),
    "no-data-key": ({"params": {}}, JSON, 400, ["got none", "dataframe_records"]),
    "two-data-keys": ({"instances": [], "inputs": []}, JSON, 400, ['"instances", "inputs"']),
    "split-without-data": ({"dataframe_split": {"columns": ["LotArea"]}}, JSON, 400,
                           ['"data" is missing']),
    "split-unknown-key": ({"dataframe_split": {"columns": [], "data": [], "rows": 1}}, JSON,
                          400, ['"rows"']),
    "ragged-row": ({"dataframe_split": {"columns": ["LotArea", "Rooms"], "data": [[1, 2], [3]]}},
                   JSON, 400, ["row 2", "1 values", "names 2"]),
    "duplicated-columns": ({"dataframe_split": {"columns": ["Rooms", "Rooms"], "data": [[1, 2]]}},
                           JSON, 400, ["'Rooms' appears twice"]),
    "duplicated-keys": (b'{"dataframe_records": [{"Rooms": 1, "Rooms": 2}]}', JSON, 400,
                        ["'Rooms' appears twice"]),
    "duplicated-csv-header": (b"Rooms,Rooms\n1,2\n", "text/csv", 400, ["'Rooms' appears twice"]),
    "ragged-csv": (b"LotArea,Street,Rooms\n1,Pave\n", "text/csv", 400, ["line 2", "2 fields"]),
    "records-not-objects": ({"dataframe_records": [[1, 2]]}, JSON, 400, ["row 1", "a list"]),
    "instances-of-lists": ({"instances": [[1.0, "Pave", 2]]}, JSON, 400, ['"instances"', "row 1"]),
    "inputs-scalars": ({"inputs": {"LotArea": 1.0}}, JSON, 400, ["'LotArea'", "list of values"]),
    "inputs-uneven": ({"inputs": {"LotArea": [1.0], "Rooms": [1, 2]}}, JSON, 400,
                      ["different lengths"]),
    "params-not-object": ({"dataframe_records": [], "params": 3}, JSON, 400, ['"params"']),
    "no-rows": ({"dataframe_split": {"columns": ["LotArea"], "data": []}}, JSON, 422, ["no rows"]),
    "missing-columns": ({"dataframe_records": [{"LotArea": 1.0}]}, JSON, 422,
                        ["missing 2 required columns", "Street", "Rooms"]),
    "text-in-number": (split_row(LotArea="big"), JSON, 422,
                       ["'LotArea'", "row 1", "expected a number", "'big'"]),
    "list-in-number": (split_row(LotArea=[1]), JSON, 422, ["'LotArea'", "a list"]),
    "bool-in-number": (split_row(LotArea=True), JSON, 422, ["'LotArea'", "got true"]),
    "object-in-category": (split_row(Street={"a": 1}), JSON, 422,
                           ["'Street'", "expected text", "an object"]),
    "fraction-in-whole": (split_row(Rooms=2.5), JSON, 422, ["'Rooms'", "whole number"]),
    "null-in-whole": (split_row(Rooms=None), JSON, 422, ["'Rooms'", "null"]),
    "out-of-range": (split_row(LotArea=1e39), JSON, 422, ["'LotArea'", "out of range"]),
    "infinity": (b'{"dataframe_records": [{"LotArea": Infinity, "Street": "P", "Rooms": 1}]}',
                 JSON, 422, ["'LotArea'", "out of range"]),
    "huge-integer": (split_row(LotArea=10**400), JSON, 422, ["'LotArea'", "out of range"]),
    "content-type-form": (b"a=1", "application/x-www-form-urlencoded", 415,
                          ["x-www-form-urlencoded", "text/csv"]),
    "content-type-missing": (b"{}", "", 415, ["missing Content-Type"]),
    "charset-latin1": (b"{}", "application/json; charset=latin-1", 415, ["latin-1", "UTF-8"]),
}


@pytest.mark.parametrize(("body", "content_type", "status", "words"), REFUSED.values(),
                         ids=REFUSED.keys())
def test_client_mistakes_are_refused_with_status_and_words(body, content_type, status, words):
    error = refusal(body, content_type)

    assert error.status_code == status
    for word in words:
        assert word in error.message


def test_every_bad_column_is_named_in_one_message():
    error = refusal(split_row(LotArea="x", Street=[], Rooms={}))

    assert all(name in error.message for name in ("'LotArea'", "'Street'", "'Rooms'"))


def test_deeply_nested_json_is_refused_not_crashed():
    body = ('{"inputs": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()

    assert refusal(body).status_code == 400


def test_a_decoded_v2_frame_is_held_to_the_same_signature():
    good = pd.DataFrame({"LotArea": [1.0], "Street": ["Pave"], "Rooms": [2]})
    twice = pd.DataFrame([[1.0, 2.0]], columns=["LotArea", "LotArea"])

    assert conform_frame(good, SCHEMA)["Rooms"].tolist() == [2]
    with pytest.raises(RequestError, match="appears twice"):
        conform_frame(twice, SCHEMA)
