"""Deterministic Kaggle-schema data, so tests run on machines without the competition files.

``kaggle_schema.json`` records, for each of the 79 features and ``SalePrice``, its kind, its
levels or range and its share of missing values in train.csv and test.csv; no row of the real
data is stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

SCHEMA = json.loads((Path(__file__).with_name("kaggle_schema.json")).read_text())["columns"]


def _column(spec: dict, rows: int, rng: np.random.Generator, split: str) -> pd.Series:
    if spec["kind"] == "category":
        values = pd.Series(rng.choice(spec["levels"], size=rows), dtype=object)
    else:
        values = pd.Series(rng.uniform(spec["min"], spec["max"], size=rows))
        if spec["integer"]:
            values = values.round()
    missing = rng.random(rows) < spec[f"missing_{split}"]
    return values.mask(missing) if missing.any() else values


def make_frame(rows: int, *, split: str = "train", seed: int = 0) -> pd.DataFrame:
    """Return ``rows`` rows shaped like ``{split}.csv`` (test has no ``SalePrice``).

    ``SalePrice`` depends on quality, living area and neighbourhood so that models learn
    something; integer columns without missing values stay integers, as pandas reads them.
    """
    rng = np.random.default_rng(seed)
    first_id = 1 if split == "train" else 1461
    frame = pd.DataFrame({"Id": np.arange(first_id, first_id + rows)})
    for spec in SCHEMA:
        if spec["name"] == "SalePrice":
            continue
        frame[spec["name"]] = _column(spec, rows, rng, split)
        if spec["kind"] == "number" and spec["integer"] and frame[spec["name"]].notna().all():
            frame[spec["name"]] = frame[spec["name"]].astype("int64")
    if split == "train":
        frame["SalePrice"] = _price(frame, rng)
    return frame


def _price(frame: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    levels = next(spec["levels"] for spec in SCHEMA if spec["name"] == "Neighborhood")
    premium = {name: 5_000 * (rank % 7) for rank, name in enumerate(levels)}
    neighbourhood = frame["Neighborhood"].map(premium).fillna(0)
    price = (
        20_000 * frame["OverallQual"].fillna(5)
        + 60 * frame["GrLivArea"].fillna(1500)
        + neighbourhood
        + rng.normal(0, 10_000, len(frame))
    )
    return price.clip(lower=35_000).round().astype("int64")


def write_kaggle_files(folder: Path, *, train_rows: int = 300, test_rows: int = 80) -> Path:
    """Write ``train.csv`` and ``test.csv`` into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    make_frame(train_rows, split="train", seed=1).to_csv(folder / "train.csv", index=False)
    make_frame(test_rows, split="test", seed=2).to_csv(folder / "test.csv", index=False)
    return folder
