"""Benchmark the seed pipeline: fit time and in-process predict latency.

Usage: uv run python bench/train.py [--repeats N] [--model NAME]
Needs the real data (HOUSE_PRICES_DATA_DIR). Prints one line per figure; medians of repeats.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics

from house_price.data import load_test, load_train
from house_price.train import train_model

from timing import median_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--model", default="seed")
    args = parser.parse_args()

    train, test = load_train(), load_test()
    fits = [train_model(train, args.model).fit_seconds for _ in range(3)]
    model = train_model(train, args.model).model

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    print(f"model: {args.model}")
    print(f"fit (median of 3): {statistics.median(fits):.2f} s")
    for rows in (1, 100, len(test)):
        batch = test.head(rows)
        latency = median_ms(lambda batch=batch: model.predict(batch), args.repeats)
        print(f"predict {rows} rows (median of {args.repeats}): {latency:.1f} ms")


if __name__ == "__main__":
    main()
