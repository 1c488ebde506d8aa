"""Benchmark a model configuration as a user meets it: train command, model size, 1-row predict.

Usage: uv run python bench/models.py [--model NAME] [--repeats N]
       uv run python bench/models.py --ablations [--repeats N]

Runs `house-price train --model NAME` (default: best) end to end against the tracking server at
$MLFLOW_TRACKING_URI (default http://127.0.0.1:9999; it registers nothing), then loads the
logged model in process as `house_price.trust.load_pyfunc` does and times single-row
predictions through the MLflow pyfunc (schema check included) and through the bare
scikit-learn estimator. Medians of repeats.

With --ablations it prints the CV RMSLE of variants of the lasso and the blend, each without
one decision, on the folds `house-price compare` uses (N repeats of 5-fold, default 2), and
the size of each configuration saved with skops. Needs the real data (HOUSE_PRICES_DATA_DIR).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from house_price.data import load_test

from timing import median_ms


def train_command(model: str) -> tuple[float, str]:
    """Run the train command; return its wall seconds and the logged model's URI."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "house_price.cli", "-q", "train",
                           "--model", model], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"house-price train failed:\n{done.stderr}")
    uri = next(line.split(": ", 1)[1] for line in done.stdout.splitlines()
               if line.startswith("Model URI: "))
    return seconds, uri


def folder_mib(folder: Path) -> float:
    """Return the size of the files under ``folder`` in MiB."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20


def variant(X, steps, model, *, skew: bool = True):
    """Build a log-target pipeline like the registry's, from chosen feature steps."""
    import numpy as np
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline

    from house_price.features import encoded_groups, make_encoder
    from house_price.serving.features import FeatureChain

    chain = FeatureChain(steps)
    encoder = make_encoder(*encoded_groups(FeatureChain(steps).fit_transform(X)))
    if not skew:
        encoder.set_params(num__skew="passthrough")
    pipeline = Pipeline([("features", chain), ("encode", encoder), ("model", model)])
    return TransformedTargetRegressor(regressor=pipeline, func=np.log1p, inverse_func=np.expm1)


def cv_rmsle(make, X, y, repeats: int, extra=None) -> str:
    """Return "mean +- sd" of RMSLE over the comparison's folds.

    ``extra`` (features, prices) joins every training fold: rows trained on, never scored.
    """
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import RepeatedKFold

    from house_price.compare import rmsle
    from house_price.pipeline import RANDOM_STATE

    scores = []
    for train_rows, test_rows in RepeatedKFold(n_splits=5, n_repeats=repeats,
                                               random_state=RANDOM_STATE).split(X):
        X_fit, y_fit = X.iloc[train_rows], y.iloc[train_rows]
        if extra is not None:
            X_fit, y_fit = pd.concat([X_fit, extra[0]]), pd.concat([y_fit, extra[1]])
        model = make().fit(X_fit, y_fit)
        scores.append(rmsle(y.iloc[test_rows], model.predict(X.iloc[test_rows])))
    return f"{np.mean(scores):.4f} +- {np.std(scores):.4f}"


def ablations(repeats: int) -> None:
    """Print the CV RMSLE of each variant and the saved size of each configuration."""
    import skops.io
    from sklearn.ensemble import GradientBoostingRegressor, VotingRegressor

    from house_price.compare import comparison_data
    from house_price.data import load_train
    from house_price.features import make_feature_chain
    from house_price.models import CANDIDATES, GBR, get_model_config, make_gbr, make_lasso, make_svr
    from house_price.train import outlier_rows, prepare

    train = load_train()
    X, y = comparison_data(train, get_model_config("lasso"))
    everything, target, _ = prepare(train, get_model_config("lasso"))
    outliers = outlier_rows(everything, target)
    steps = make_feature_chain().steps

    def without(name):
        return [step for step in steps if step[0] != name]

    def slow_gbr():
        return GradientBoostingRegressor(**{**GBR, "n_estimators": 1500, "learning_rate": 0.05})

    variants = {
        "lasso": lambda: variant(X, steps, make_lasso()),
        "lasso, outliers kept in training": lambda: variant(X, steps, make_lasso()),
        "lasso, no feature steps": lambda: variant(X, [], make_lasso()),
        "lasso, no ordinal ranks": lambda: variant(X, without("ordinal"), make_lasso()),
        "lasso, no combined features": lambda: variant(X, without("combine"), make_lasso()),
        "lasso, no fill by meaning": lambda: variant(X, without("fill"), make_lasso()),
        "lasso, no skew correction": lambda: variant(X, steps, make_lasso(), skew=False),
        "blend": lambda: variant(X, steps, VotingRegressor(
            [("lasso", make_lasso()), ("svr", make_svr()), ("gbr", make_gbr())])),
        "blend without gbr": lambda: variant(X, steps, VotingRegressor(
            [("lasso", make_lasso()), ("svr", make_svr())])),
        "blend, gbr 1500 trees at 0.05": lambda: variant(X, steps, VotingRegressor(
            [("lasso", make_lasso()), ("svr", make_svr()), ("gbr", slow_gbr())])),
    }
    for name, make in variants.items():
        extra = (everything.loc[outliers], target.loc[outliers]) if "kept" in name else None
        print(f"{name}: CV RMSLE {cv_rmsle(make, X, y, repeats, extra)}", flush=True)
    for name in CANDIDATES:
        config = get_model_config(name)
        features, prices, _ = prepare(train, config)
        model = config.build(features).fit(features, prices)
        print(f"{name}: saved with skops {len(skops.io.dumps(model)) / 2**20:.1f} MiB",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="best")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--ablations", action="store_true")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f} at start")
    if args.ablations:
        ablations(args.repeats or 2)
    else:
        serving_figures(args.model, args.repeats or 50)
    print(f"load at end: {os.getloadavg()[0]:.2f}")


def serving_figures(model: str, repeats: int) -> None:
    """Print the train command's time, the model's size and its 1-row predict latency."""
    import mlflow

    from house_price.serving.trusted import allow_skops_load, check_model_dir

    seconds, uri = train_command(model)
    print(f"house-price train --model {model}: {seconds:.1f} s wall, model {uri}")

    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    print(f"model folder: {folder_mib(local):.1f} MiB")
    check_model_dir(local)
    started = time.perf_counter()
    with allow_skops_load():
        pyfunc = mlflow.pyfunc.load_model(str(local))
    print(f"pyfunc load: {time.perf_counter() - started:.2f} s")
    estimator = pyfunc.get_raw_model()

    row = load_test().head(1)
    for name, predict in (("pyfunc", pyfunc.predict), ("sklearn", estimator.predict)):
        latency = median_ms(lambda predict=predict: predict(row), repeats)
        print(f"1-row predict via {name} (median of {repeats}): {latency:.1f} ms")


if __name__ == "__main__":
    main()
