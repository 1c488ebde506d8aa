"""Command line: ``house-price train``; later subcommands plug in through ``COMMANDS``."""

from __future__ import annotations

import argparse
import logging
import sys

from house_price import __version__
from house_price.errors import UserError
from house_price.models import DEFAULT_MODEL, MODELS
from house_price.serving.trusted import UntrustedModelError

log = logging.getLogger("house_price")


def train_command(args: argparse.Namespace) -> None:
    """Train a configuration, log it to MLflow and print its figures and model URI."""
    import mlflow

    from house_price.data import data_dir, load_train
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
    source = str(data_dir(args.data).resolve() / "train.csv")
    logged = log_training(result, train, experiment=args.experiment,
                          register=args.register, data_source=source)

    print(f"RMSE: {result.metrics['RMSE']:.2f}")
    print(f"MAE: {result.metrics['MAE']:.2f}")
    print(f"Run ID: {logged.run_id}")
    print(f"Model URI: {logged.registered_uri or logged.model_uri}")
    print(f"Run: {uri}/#/experiments/{logged.experiment_id}/runs/{logged.run_id}")


def add_train(commands) -> None:
    """Register ``train`` and its options."""
    from house_price.tracking import DEFAULT_EXPERIMENT

    parser = commands.add_parser("train", help="train a model and log it to MLflow")
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(MODELS),
                        help=f"model configuration (default: {DEFAULT_MODEL})")
    parser.add_argument("--data", metavar="DIR",
                        help="folder with train.csv (default: $HOUSE_PRICES_DATA_DIR, "
                             "else housing-price-model/data)")
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT,
                        help=f"MLflow experiment (default: {DEFAULT_EXPERIMENT!r})")
    parser.add_argument("--register", action="store_true",
                        help="register as house-price-model and move alias 'champion' to it")
    parser.set_defaults(handler=train_command)


COMMANDS = [add_train]


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
