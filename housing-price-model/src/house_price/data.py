"""Load the Kaggle House Prices files.

Parsing of ``NA``: the files write ``NA`` both for "unknown" and for "this house has none"
(no alley, no pool, no garage). We keep pandas' default ``na_values``, so both arrive as a
missing value, and so does the ``MasVnrType`` category ``None``. That is deliberate:

* it is what the tutorial's reference figures were computed from, and the "seed" model must
  reproduce them;
* an HTTP client sends those same cells as JSON ``null``, so the model has to interpret a
  missing value anyway; the meaning of "none" belongs in the pipeline's features, where it
  travels with the model, not in this loader.

Numeric columns are returned as ``float64``. Eight of them are integers in ``train.csv`` but
hold missing values in ``test.csv``; as floats, one model signature accepts both files and the
JSON that clients send.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from house_price.errors import DataNotFoundError

log = logging.getLogger(__name__)

DATA_ENV = "HOUSE_PRICES_DATA_DIR"
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
TARGET = "SalePrice"
ID = "Id"
KAGGLE_DOWNLOAD = "kaggle competitions download -c house-prices-advanced-regression-techniques"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Return ``explicit``, else ``$HOUSE_PRICES_DATA_DIR``, else ``housing-price-model/data``."""
    chosen = explicit or os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR
    return Path(chosen).expanduser()


def train_path(directory: str | os.PathLike | None = None) -> Path:
    """Return the absolute path of ``train.csv``, the source MLflow records for the dataset."""
    return data_dir(directory).resolve() / "train.csv"


def read_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read one Kaggle CSV with the project's parsing rules (see the module docstring)."""
    frame = pd.read_csv(path)
    return as_model_input(frame)


def as_model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast integer columns to ``float64``, the type the model signature declares.

    ``SalePrice`` and ``Id`` stay integers: they are never model inputs.
    """
    ints = [c for c in frame.select_dtypes("integer").columns if c not in (TARGET, ID)]
    return frame.astype(dict.fromkeys(ints, "float64"))


def load_split(name: str, directory: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load ``train`` or ``test`` from the data directory.

    Raises:
        DataNotFoundError: the file is missing; the message says how to get it.
    """
    folder = data_dir(directory)
    path = folder / f"{name}.csv"
    if not path.is_file():
        raise DataNotFoundError(
            f"{path.name} not found in {folder} (expected train.csv and test.csv): run "
            f"`{KAGGLE_DOWNLOAD}` and unzip it into {folder}, or set {DATA_ENV} or --data"
        )
    frame = read_csv(path)
    log.info("Loaded %s: %d rows x %d columns from %s", path.name, *frame.shape, folder)
    return frame


def load_train(directory: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load ``train.csv`` (features and ``SalePrice``)."""
    return load_split("train", directory)


def load_test(directory: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load ``test.csv`` (features only, Ids 1461-2919)."""
    return load_split("test", directory)
