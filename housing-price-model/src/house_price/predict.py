"""Predict prices for a Kaggle-format CSV, in process or through a model server."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from house_price.data import ID, TARGET, read_csv
from house_price.errors import UserError

log = logging.getLogger(__name__)


class PredictInputError(UserError):
    """An input or output file that cannot be used."""


def read_input(path: str | os.PathLike) -> pd.DataFrame:
    """Read the rows to predict, with the project's parsing rules.

    Raises:
        PredictInputError: missing, empty or unparsable file, or no ``Id`` column.
    """
    path = Path(path)
    if not path.is_file():
        raise PredictInputError(f"input file {path} does not exist: give a CSV in the format "
                                "of Kaggle's test.csv with --input")
    try:
        frame = read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise PredictInputError(f"cannot read {path} as CSV ({error}): give a CSV in the "
                                "format of Kaggle's test.csv") from None
    if ID not in frame.columns:
        raise PredictInputError(f"{path} has no {ID} column: a submission needs one {ID} per "
                                "row, as in Kaggle's test.csv")
    if frame.empty:
        raise PredictInputError(f"{path} has a header but no rows to predict")
    return frame


def predict_in_process(model_uri: str, frame: pd.DataFrame) -> np.ndarray:
    """Load ``model_uri`` with ``trust.load_pyfunc`` and predict ``frame``."""
    from house_price.trust import load_pyfunc

    return np.asarray(load_pyfunc(model_uri).predict(frame), dtype=float).reshape(-1)


def predict_frame(frame: pd.DataFrame, *, model_uri: str | None = None,
                  url: str | None = None) -> np.ndarray:
    """Predict ``frame`` with ``model_uri`` in process, or with the server at ``url``."""
    if (model_uri is None) == (url is None):
        raise ValueError("give exactly one of model_uri and url")
    if url is not None:
        from house_price.client import post_frame

        return post_frame(url, frame)
    return predict_in_process(model_uri, frame)


def write_submission(ids: pd.Series, predictions: np.ndarray, path: str | os.PathLike) -> Path:
    """Write ``Id,SalePrice`` to ``path``; the file appears only once complete."""
    path = Path(path)
    submission = pd.DataFrame({ID: ids.to_numpy(), TARGET: predictions})
    partial = path.with_name(f".{path.name}.partial")
    submission.to_csv(partial, index=False)
    partial.replace(path)
    return path


def predict_file(input_csv: str | os.PathLike, output_csv: str | os.PathLike, *,
                 model_uri: str | None = None, url: str | None = None) -> Path:
    """Predict every row of ``input_csv`` and write the Kaggle submission ``output_csv``.

    Raises:
        PredictInputError: unusable input, or an output that is the input or has no folder.
        ServerUnavailableError, PredictionRequestError: see ``house_price.client.post_frame``.
    """
    output = Path(output_csv)
    if output.resolve() == Path(input_csv).resolve():
        raise PredictInputError(f"--output {output} is the input file: write elsewhere")
    if not output.parent.is_dir():
        raise PredictInputError(f"folder {output.parent} for --output does not exist")
    frame = read_input(input_csv)
    predictions = predict_frame(frame, model_uri=model_uri, url=url)
    written = write_submission(frame[ID], predictions, output)
    log.info("Wrote %d predictions to %s", len(predictions), written)
    return written
