"""Command line: ``house-price train``; later subcommands plug in through ``COMMANDS``."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from house_price import __version__
from house_price.errors import UserError
from house_price.models import DEFAULT_MODEL, MODELS
from house_price.serving.trusted import UntrustedModelError

log = logging.getLogger("house_price")


def run_training(args: argparse.Namespace):
    """Check the tracking server, load, train and log; return ``(TrainingResult, LoggedRun)``."""
    import mlflow

    from house_price.data import load_train, train_path
    from house_price.tracking import ensure_server, log_training, tracking_uri
    from house_price.train import train_model

    uri = tracking_uri()
    log.info("[1/4] Checking the tracking server at %s", uri)
    ensure_server(uri)
    mlflow.set_tracking_uri(uri)

    log.info("[2/4] Loading train.csv")
    train = load_train(args.data)

    log.info("[3/4] Training %r", args.model)
    result = train_model(train, args.model)

    log.info("[4/4] Logging the run to experiment %r", args.experiment)
    try:
        logged = log_training(result, train, experiment=args.experiment,
                              register=args.register, data_source=str(train_path(args.data)))
    except Exception:
        ensure_server(uri, during="while the run was being logged; it stays unfinished and "
                                  "nothing was registered")
        raise
    return result, logged


def print_training(result, logged) -> None:
    """Print the figures and addresses a user or a script looks for after training."""
    from house_price.tracking import tracking_uri

    run_url = f"{tracking_uri()}/#/experiments/{logged.experiment_id}/runs/{logged.run_id}"
    print(f"RMSE: {result.metrics['RMSE']:.2f}")
    print(f"MAE: {result.metrics['MAE']:.2f}")
    print(f"Run ID: {logged.run_id}")
    print(f"Model URI: {logged.registered_uri or logged.model_uri}")
    print(f"Run: {run_url}")


def train_command(args: argparse.Namespace) -> None:
    """Train a configuration, log it to MLflow and print its figures and model URI."""
    print_training(*run_training(args))


def add_train(commands) -> None:
    """Register ``train`` and its options."""
    from house_price.tracking import DEFAULT_EXPERIMENT

    parser = commands.add_parser("train", help="train a model and log it to MLflow")
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(MODELS),
                        help=f"model configuration (default: {DEFAULT_MODEL}); 'best' is the "
                             "one `house-price compare` ranked first, refitted on all rows")
    parser.add_argument("--data", metavar="DIR",
                        help="folder with train.csv (default: $HOUSE_PRICES_DATA_DIR, "
                             "else housing-price-model/data)")
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT,
                        help=f"MLflow experiment (default: {DEFAULT_EXPERIMENT!r})")
    parser.add_argument("--register", action="store_true",
                        help="register as house-price-model and move alias 'champion' to it")
    parser.set_defaults(handler=train_command)


def serve_command(args: argparse.Namespace) -> None:
    """Serve a model with MLServer from its build context until Ctrl-C."""
    from house_price.context import ServerSettings
    from house_price.serve import serve

    settings = ServerSettings(host=args.host, http_port=args.http_port,
                              grpc_port=args.grpc_port, metrics_port=args.metrics_port,
                              parallel_workers=args.workers)
    serve(args.model_uri, settings, context_dir=args.context)


def add_serve(commands) -> None:
    """Register ``serve`` and its options."""
    from house_price.context import ServerSettings

    parser = commands.add_parser(
        "serve", help="serve a model with MLServer here, without Docker",
        description="Write the model's Docker build context and run MLServer on it. Prints a "
                    "curl example once /v2/health/ready answers.")
    parser.add_argument("model_uri", metavar="MODEL_URI",
                        help="e.g. models:/house-price-model@champion, runs:/RUN_ID/model")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1; 0.0.0.0 exposes it)")
    parser.add_argument("--http-port", type=int, default=8080, help="default: 8080")
    parser.add_argument("--grpc-port", type=int, default=8081, help="default: 8081")
    parser.add_argument("--metrics-port", type=int, default=8082, help="default: 8082")
    parser.add_argument("--workers", type=int, default=ServerSettings.parallel_workers,
                        help="MLServer inference worker processes (default: "
                             f"{ServerSettings.parallel_workers})")
    parser.add_argument("--context", metavar="DIR",
                        help="write the build context here and keep it (default: a temporary "
                             "folder removed on exit); it listens on --host, so build images "
                             "with model-build.sh instead")
    parser.set_defaults(handler=serve_command)


def predict_command(args: argparse.Namespace) -> None:
    """Predict a CSV in process or through a server and write the submission."""
    from house_price.predict import predict_file

    print(predict_file(args.input, args.output, model_uri=args.model_uri, url=args.url))


def add_predict(commands) -> None:
    """Register ``predict`` and its options."""
    parser = commands.add_parser(
        "predict", help="write a Kaggle submission (Id,SalePrice) for a CSV",
        description="Predict every row of a CSV shaped like Kaggle's test.csv, with a model "
                    "loaded here or through a running model server.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model-uri", metavar="URI",
                        help="load this model here, e.g. models:/house-price-model@champion")
    source.add_argument("--url", metavar="URL",
                        help="post to this model server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--input", required=True, metavar="CSV", help="rows to predict")
    parser.add_argument("--output", required=True, metavar="CSV",
                        help="submission to write (Id,SalePrice)")
    parser.set_defaults(handler=predict_command)


def up_command(args: argparse.Namespace) -> None:
    """Run the main job: tracking server, seed model registered as champion, served."""
    from house_price.context import ServerSettings
    from house_price.quickstart import ensure_tracking_server
    from house_price.serve import serve
    from house_price.tracking import tracking_uri

    uri = tracking_uri()
    if ensure_tracking_server(uri):
        print(f"Started the tracking server: {uri}")
    args.register = True
    result, logged = run_training(args)
    print_training(result, logged)
    print(f"MLflow UI: {uri}")
    if not args.no_serve:
        settings = ServerSettings(host="127.0.0.1", http_port=args.http_port,
                                  grpc_port=args.grpc_port, metrics_port=args.metrics_port)
        serve(logged.registered_uri, settings)


def add_up(commands) -> None:
    """Register ``up`` and its options."""
    from house_price.tracking import DEFAULT_EXPERIMENT

    parser = commands.add_parser(
        "up", help="the main job: tracking server, train and register, serve the champion",
        description="Start the tracking server if none answers (local URIs only), train and "
                    "register a model as house-price-model@champion, then serve it on "
                    "127.0.0.1 until Ctrl-C.")
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(MODELS),
                        help=f"model configuration (default: {DEFAULT_MODEL})")
    parser.add_argument("--data", metavar="DIR", help="folder with train.csv (as for train)")
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT, help=argparse.SUPPRESS)
    parser.add_argument("--http-port", type=int, default=8080, help="default: 8080")
    parser.add_argument("--grpc-port", type=int, default=8081, help="default: 8081")
    parser.add_argument("--metrics-port", type=int, default=8082, help="default: 8082")
    parser.add_argument("--no-serve", action="store_true",
                        help="stop after registering the model")
    parser.set_defaults(handler=up_command)


def compare_command(args: argparse.Namespace) -> None:
    """Cross-validate the configurations, log nested MLflow runs and print the table."""
    import contextlib

    import mlflow

    from house_price.compare import chosen, compare, table
    from house_price.data import load_train
    from house_price.models import BEST
    from house_price.tracking import ensure_server, tracking_uri

    names = chosen([name.strip() for name in (args.models or "").split(",") if name.strip()])
    uri = tracking_uri()
    ensure_server(uri)
    mlflow.set_tracking_uri(uri)
    train = load_train(args.data)
    # MLflow prints each run's URL on stdout; stdout is for the table.
    with contextlib.redirect_stdout(sys.stderr):
        evaluations = compare(train, names, folds=args.folds, repeats=args.repeats,
                              experiment=args.experiment)
    print(table(evaluations))
    ranked = min(evaluations, key=lambda item: item.cv_mean)
    print(f"\nLowest CV RMSLE: {ranked.name}; `--model best` trains {BEST}")


def add_compare(commands) -> None:
    """Register ``compare`` and its options."""
    from house_price.compare import DEFAULT_FOLDS, DEFAULT_REPEATS
    from house_price.models import CANDIDATES
    from house_price.tracking import DEFAULT_EXPERIMENT

    parser = commands.add_parser(
        "compare", help="cross-validate every model configuration and print a table",
        description="Repeated K-fold CV (RMSLE) of each configuration on train.csv less the "
                    "two documented outliers, plus RMSE/MAE on the tutorial's validation "
                    "split; one MLflow run per configuration, nested under a comparison run. "
                    "Prints a Markdown table on stdout, progress on stderr.")
    parser.add_argument("--models", metavar="A,B",
                        help=f"comma-separated configurations (default: all: "
                             f"{','.join(CANDIDATES)})")
    parser.add_argument("--folds", type=int, default=DEFAULT_FOLDS,
                        help=f"K of K-fold (default: {DEFAULT_FOLDS})")
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS,
                        help=f"K-fold repeats with new shuffles (default: {DEFAULT_REPEATS})")
    parser.add_argument("--data", metavar="DIR", help="folder with train.csv (as for train)")
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT,
                        help=f"MLflow experiment (default: {DEFAULT_EXPERIMENT!r})")
    parser.set_defaults(handler=compare_command)


COMMANDS = [add_train, add_serve, add_predict, add_up, add_compare]


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every subcommand in ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="house-price",
        description="Train, track and serve the House Prices model. MLflow is reached at "
                    "$MLFLOW_TRACKING_URI (default http://127.0.0.1:9999).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="show warnings only")
    commands = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(commands)
    return parser


def fail_fast_on_http() -> None:
    """Limit MLflow's HTTP retries (by default minutes of them) unless the user set their own."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")


def configure_logging(quiet: bool) -> None:
    """Send progress to stderr, so stdout carries only the results a script may capture."""
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a ``UserError`` becomes one line on stderr and its exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(args.quiet)
    fail_fast_on_http()
    try:
        args.handler(args)
    except (UserError, UntrustedModelError) as error:
        print(f"house-price: error: {error}", file=sys.stderr)
        return getattr(error, "exit_code", 1)
    except KeyboardInterrupt:
        print("house-price: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
