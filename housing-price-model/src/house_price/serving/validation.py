"""Read an ``/invocations`` request into the model's input columns, or refuse it in client terms.

MLServer's MLflow runtime lets MLflow's parsers raise, and anything raised while parsing becomes
a 500. Here every client mistake becomes a ``RequestError``: a 4xx status and a message naming
the column, the type expected and the formats accepted. What the model's signature allows keeps
working: nulls anywhere (the model imputes them), categories never seen in training, extra
columns such as ``Id`` (dropped), the four JSON layouts MLflow's scoring server takes, and CSV.

Statuses: 400 the body cannot be read as a table; 413 the body is too large; 415 the content
type or encoding is not supported; 422 a readable table that does not fit the signature.

Runs inside the model server: imports only the standard library, numpy, pandas and MLServer (with
its Starlette).
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pandas as pd
from mlserver.errors import MLServerError
from starlette.requests import Request

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
ACCEPTED = (
    'a JSON object with exactly one of "dataframe_split", "dataframe_records", "instances" or '
    '"inputs" (Content-Type: application/json), or CSV with a header row (Content-Type: text/csv)'
)
MEDIA_TYPES = {"application/json": "json", "text/csv": "csv"}
# The strings pandas.read_csv reads as missing by default, as training read train.csv
# (test_validation checks this list against pandas).
CSV_MISSING = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})
# scikit-learn's trees compare features as float32, where a larger number is infinite.
MAX_MAGNITUDE = float(np.finfo(np.float32).max)
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_LISTED = 10

BAD_REQUEST, TOO_LARGE, UNSUPPORTED, UNPROCESSABLE = 400, 413, 415, 422

max_body_bytes = DEFAULT_MAX_BODY_BYTES

# The signature's columns, in its order, as numpy arrays: float64 for numbers, object for text
# (NaN where missing), which is what ``pd.DataFrame(inputs)`` gives the model.
Inputs = dict[str, np.ndarray]


class RequestError(MLServerError):
    """A request the client must fix; ``status_code`` is the HTTP status to answer with."""

    def __init__(self, message: str, status_code: int = BAD_REQUEST):
        super().__init__(message, status_code)
        self.message = message


class _BadValue(Exception):
    """One cell that does not fit its column; ``conform`` adds the column and row."""


def set_max_body_bytes(limit: int) -> None:
    """Set the largest body ``read_body`` accepts (model-settings.json, ``max_body_bytes``)."""
    global max_body_bytes
    if int(limit) <= 0:
        raise ValueError(f"max_body_bytes must be a positive number of bytes, got {limit!r}")
    max_body_bytes = int(limit)


async def read_body(request: Request) -> bytes:
    """Read the body, refusing it (413) as soon as it passes ``max_body_bytes``.

    Runs in MLServer's HTTP process, before the body is handed to an inference worker.
    """
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise RequestError(f"Content-Encoding {encoding!r} is not supported: send the body "
                           "uncompressed", UNSUPPORTED)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body_bytes:
        raise _too_large(int(declared))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body_bytes:
            raise _too_large(size)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int) -> RequestError:
    return RequestError(
        f"the body ({size} bytes or more) is larger than the limit of {max_body_bytes} bytes: "
        "send the rows in smaller batches", TOO_LARGE)


def read_request(body: bytes, content_type: str, schema) -> tuple[Inputs, dict | None]:
    """Return the model's input columns and the ``params`` of a request body.

    ``schema`` is the model's MLflow input schema; ``pd.DataFrame(inputs)`` is the frame the
    model takes.

    Raises:
        RequestError: anything the client must fix, with its status and message.
    """
    kind = media_type(content_type)
    text = decode_text(body)
    if kind == "csv":
        columns, rows = csv_table(text)
        params = None
    else:
        columns, rows, params = json_table(read_json(text))
    return conform(columns, rows, schema), params


def media_type(content_type: str) -> str:
    """Return ``"json"`` or ``"csv"`` for a Content-Type header; refuse others (415)."""
    mime, *parameters = (part.strip() for part in content_type.split(";"))
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        charset = value.strip(' "').lower()
        if key.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise RequestError(f"charset {charset!r} is not supported: send UTF-8 text",
                               UNSUPPORTED)
    kind = MEDIA_TYPES.get(mime.lower())
    if kind is None:
        given = f"Content-Type {content_type!r}" if content_type else "a missing Content-Type"
        raise RequestError(f"{given} is not supported: send {ACCEPTED}", UNSUPPORTED)
    return kind


def decode_text(body: bytes) -> str:
    """Return the body as text; refuse what is not UTF-8 or is empty (400)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RequestError(f"the body is not UTF-8 text (invalid byte at position "
                           f"{error.start}): send {ACCEPTED}") from None
    if not text.strip():
        raise RequestError(f"the body is empty: send {ACCEPTED}")
    return text


def read_json(text: str) -> dict:
    """Parse a JSON body that must be an object; duplicated keys are refused (400)."""
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise RequestError(f"the body is not valid JSON ({error.msg} at line {error.lineno} "
                           f"column {error.colno}): send {ACCEPTED}") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise RequestError(f"the body is not valid JSON ({error}): send {ACCEPTED}") from None
    except RecursionError:
        raise RequestError(f"the JSON nests too deeply to be a table: send {ACCEPTED}") from None
    if not isinstance(document, dict):
        raise RequestError(f"the body is {_describe(document)}, not a JSON object: "
                           f"send {ACCEPTED}")
    return document


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    document = dict(pairs)
    if len(document) < len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise RequestError(f"key {twice!r} appears twice in one JSON object: "
                           "send each column once")
    return document


def json_table(document: dict) -> tuple[dict[str, list], int, dict | None]:
    """Return the columns (name to values), the row count and the ``params`` of a JSON body."""
    unknown = sorted(set(document) - {*FORMATS, "params"})
    if unknown:
        raise RequestError(f"unknown key {_names(unknown)}: send {ACCEPTED}")
    chosen = [key for key in FORMATS if key in document]
    if len(chosen) != 1:
        found = f"got {_names(chosen)}" if chosen else "got none"
        raise RequestError(f"{found}: send {ACCEPTED}")
    params = document.get("params")
    if params is not None and not isinstance(params, dict):
        raise RequestError(f'"params" must be an object, got {_describe(params)}')
    key = chosen[0]
    readers = {"dataframe_split": _split, "dataframe_records": _records}
    columns, rows = readers.get(key, _inputs)(document[key], key)
    return columns, rows, params


def _split(value, key: str) -> tuple[dict[str, list], int]:
    layout = f'"{key}" takes {{"columns": [names], "data": [[row values], ...]}}'
    if not isinstance(value, dict):
        raise RequestError(f"{layout}; got {_describe(value)}")
    unknown = sorted(set(value) - {"columns", "data", "index"})
    if unknown:
        raise RequestError(f'{layout} (and optionally "index"); unknown key {_names(unknown)}')
    for part in ("columns", "data"):
        if part not in value:
            raise RequestError(f'{layout}; "{part}" is missing')
    names, rows = value["columns"], value["data"]
    _check_names(names, f'"columns" of "{key}"')
    if not isinstance(rows, list):
        raise RequestError(f'{layout}; "data" is {_describe(rows)}')
    for number, row in enumerate(rows, 1):
        if not isinstance(row, list):
            raise RequestError(f'row {number} of "data" is {_describe(row)}: each row is a list '
                               'of values in the order of "columns"')
        if len(row) != len(names):
            raise RequestError(f'row {number} of "data" has {len(row)} values but "columns" '
                               f"names {len(names)}: send one value per column, null if unknown")
    return dict(zip(names, _transpose(rows, len(names)), strict=True)), len(rows)


def _records(value, key: str) -> tuple[dict[str, list], int]:
    if not isinstance(value, list):
        raise RequestError(f'"{key}" takes a list of rows, each an object of column: value; '
                           f"got {_describe(value)}")
    columns: dict[str, list] = {}
    for number, record in enumerate(value, 1):
        if not isinstance(record, dict):
            raise RequestError(f'row {number} of "{key}" is {_describe(record)}: each row is an '
                               "object of column: value")
        for name in record.keys() - columns.keys():
            columns[name] = [None] * (number - 1)
        for name, values in columns.items():
            values.append(record.get(name))
    return columns, len(value)


def _inputs(value, key: str) -> tuple[dict[str, list], int]:
    if isinstance(value, list):
        return _records(value, key)
    layouts = (f'"{key}" takes a list of rows (objects of column: value) or an object of '
               "column: list of values")
    if not isinstance(value, dict):
        raise RequestError(f"{layouts}; got {_describe(value)}")
    for name, values in value.items():
        if not isinstance(values, list):
            raise RequestError(f"{layouts}; column {name!r} is {_describe(values)}")
    lengths = sorted({len(values) for values in value.values()})
    if len(lengths) > 1:
        raise RequestError(f'the columns of "{key}" have different lengths ({lengths[0]} to '
                           f"{lengths[-1]} values): give every column one value per row")
    return {name: list(values) for name, values in value.items()}, lengths[0] if lengths else 0


def _transpose(rows: list[list], width: int) -> list[list]:
    """Turn rows of ``width`` values each into ``width`` columns."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def _check_names(names, where: str) -> None:
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise RequestError(f"{where} must be a list of column names (text)")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise RequestError(f"column {name!r} appears twice in {where}: send each column once")
        seen.add(name)


def csv_table(text: str) -> tuple[dict[str, list], int]:
    """Return the columns and row count of a CSV body: a header row, then one line per row.

    Cells pandas would read as missing (``CSV_MISSING``) become null; blank lines are skipped.
    """
    try:
        lines = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as error:
        raise RequestError(f"the body is not valid CSV ({error}): send a header row of column "
                           "names, then one line per row") from None
    header, rows = lines[0], lines[1:]
    _check_names(header, "the CSV header")
    for number, row in enumerate(rows, 2):
        if len(row) != len(header):
            raise RequestError(f"CSV line {number} has {len(row)} fields but the header has "
                               f"{len(header)}: send one field per column, empty if unknown")
    columns = {name: [None if cell in CSV_MISSING else cell for cell in cells]
               for name, cells in zip(header, _transpose(rows, len(header)), strict=True)}
    return columns, len(rows)


def conform(columns: dict[str, list], rows: int, schema) -> Inputs:
    """Return the signature's columns as typed arrays; extra columns are dropped (422).

    A missing optional column becomes all nulls; a missing required one is refused.
    """
    if rows == 0:
        raise RequestError("the request has no rows: send at least one", UNPROCESSABLE)
    required = set(schema.required_input_names())
    specs = list(zip(schema.input_names(), schema.input_types(), strict=True))
    missing = [name for name, _ in specs if name not in columns and name in required]
    if missing:
        raise RequestError(
            f"missing {len(missing)} required column{'s' if len(missing) > 1 else ''}: "
            f"{_listed(missing)}; send every column the model takes, null where a value is "
            "unknown", UNPROCESSABLE)
    data, problems = {}, []
    for name, kind in specs:
        try:
            data[name] = _convert(columns.get(name) or [None] * rows, kind)
        except _BadValue as bad:
            row, reason = bad.args
            problems.append(f"column {name!r}, row {row}: {reason}")
    if problems:
        raise RequestError(f"{_listed(problems, sep='; ')}", UNPROCESSABLE)
    return data


def conform_frame(frame: pd.DataFrame, schema) -> Inputs:
    """Hold a frame (decoded by MLServer's V2 protocol, or an input example) to the signature."""
    names = [str(name) for name in frame.columns]
    _check_names(names, "the inputs")
    columns = {name: frame.iloc[:, place].tolist() for place, name in enumerate(names)}
    return conform(columns, len(frame), schema)


def _convert(values: list, kind) -> np.ndarray:
    name = getattr(kind, "name", None)
    if name in ("double", "float"):
        return np.array([_number(value, row) for row, value in enumerate(values, 1)],
                        dtype=np.float64)
    if name in ("long", "integer"):
        return np.array([_whole(value, row) for row, value in enumerate(values, 1)],
                        dtype=np.int64)
    if name == "string":
        return np.array([_text(value, row) for row, value in enumerate(values, 1)],
                        dtype=object)
    # Other types (booleans, dates, arrays...) are left for MLflow's own schema enforcement.
    return np.array(values, dtype=object)


def _number(value, row: int) -> float:
    kind = type(value)
    if kind is float or kind is int:
        number = value
    elif value is None:
        return math.nan
    elif kind is str:
        try:
            number = float(value)
        except ValueError:
            raise _BadValue(row, f"expected a number or null, got {_describe(value)}") from None
    else:
        raise _BadValue(row, f"expected a number or null, got {_describe(value)}")
    try:
        number = float(number)
    except OverflowError:
        number = math.inf
    if number != number:  # NaN: what Python's json writes for a missing float
        return math.nan
    if not abs(number) <= MAX_MAGNITUDE:
        raise _BadValue(row, f"{_describe(value)} is out of range: numbers must be finite and "
                             f"at most {MAX_MAGNITUDE:.4g} in magnitude")
    return number


def _whole(value, row: int) -> int:
    if value is None or (type(value) is float and value != value):
        raise _BadValue(row, "null is not accepted: this column takes whole numbers only")
    number = _number(value, row)
    if not number.is_integer():
        raise _BadValue(row, f"expected a whole number, got {_describe(value)}")
    return int(number)


def _text(value, row: int):
    kind = type(value)
    if kind is str:
        return value
    # NaN, not None: scikit-learn's imputers see None in a text column as a category.
    if value is None or (kind is float and value != value):
        return math.nan
    if kind is int or kind is float:  # a code sent as a number, as MLflow's server accepts
        return str(value)
    raise _BadValue(row, f"expected text (a category) or null, got {_describe(value)}")


def _describe(value) -> str:
    """Name a JSON value the way a client wrote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {_short(repr(value))}"
    if isinstance(value, str):
        return f"the text {_short(value)!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _names(keys: list[str]) -> str:
    return ", ".join(f'"{key}"' for key in keys)


def _listed(items: list[str], sep: str = ", ") -> str:
    shown = sep.join(items[:MAX_LISTED])
    more = len(items) - MAX_LISTED
    return f"{shown}{sep}and {more} more" if more > 0 else shown
