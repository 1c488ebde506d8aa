"""Write the Docker build context that serves a model with MLServer.

The context is a folder MLServer can serve as it is (``mlserver start FOLDER``) and Docker can
build as it is (``docker build FOLDER``)::

    Dockerfile                  python:<model's major.minor>-slim, non-root, healthcheck
    .dockerignore               keeps caches out of the image
    requirements.txt            the model's requirements + pinned mlserver, mlserver-mlflow, uvloop
    constraints.txt             every package they pull in, pinned to the versions tested here
    settings.json               MLServer: host, HTTP/gRPC/metrics ports, workers
    house-price-model/          MLServer's model folder (named as the model)
        model-settings.json     served by house_price.serving.runtime.HousePriceRuntime
        house_price/            an empty package around a copy of house_price/serving
        model/                  the MLflow model, downloaded from its URI

MLServer puts the folder of ``model-settings.json`` first on ``sys.path`` while it imports the
runtime, so the copy is what runs, in the image and under ``house-price serve`` alike, and the
image needs no ``house_price`` install. The copy keeps its import path ``house_price.serving``
because models refer to the transformers of ``house_price.serving.features`` by that path.

Run as ``python -m house_price.context MODEL_URI [DIR]`` (what ``model-build.sh`` does).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import yaml

from house_price.errors import UserError
from house_price.serving.trusted import check_model_dir

log = logging.getLogger(__name__)

DEFAULT_CONTEXT_DIR = Path(__file__).resolve().parents[2] / "build"
RUNTIME = "house_price.serving.runtime.HousePriceRuntime"
STUB_INIT = '''"""Only ``house_price.serving``, copied by ``house_price.context`` for MLServer."""
'''
MODEL_NAME = "house-price-model"
MODEL_FOLDER = MODEL_NAME
MODEL_DIR = f"{MODEL_FOLDER}/model"
# The server's own packages, pinned to the versions installed (and tested) here.
SERVER_PACKAGES = ("mlserver", "mlserver-mlflow", "uvloop")
# The largest request body the model server reads (it answers 413 above): about 30,000 rows
# as dataframe_split. The runtime reads it from model-settings.json.
MAX_BODY_BYTES = 16 * 1024 * 1024
# Files that mark a folder as a context this module wrote, and so safe to replace.
MARKERS = ("Dockerfile", "settings.json")
IMAGE_WORKDIR = "/opt/house-price"
DOCKERIGNORE = "**/__pycache__\n**/*.pyc\n.metrics\n.envs\n"
URI_FORMS = "runs:/RUN_ID/model, models:/NAME@ALIAS, models:/NAME/VERSION or models:/m-ID"


class ModelNotFoundError(UserError):
    """A model URI that MLflow cannot resolve or download."""


class ContextDirError(UserError):
    """A target folder that is not ours to replace."""


@dataclass(frozen=True)
class ServerSettings:
    """What MLServer's ``settings.json`` says: where it listens and how many workers run.

    The image listens on every interface of its container (Compose publishes the ports on the
    host's loopback); a local ``house-price serve`` listens on loopback.
    """

    host: str = "0.0.0.0"
    http_port: int = 8080
    grpc_port: int = 8081
    metrics_port: int = 8082
    # Two: when one worker dies the other keeps answering while MLServer starts a replacement,
    # which takes seconds (imports, model load). Throughput is bounded by the HTTP process.
    parallel_workers: int = 2

    def to_json(self) -> dict:
        """Return the ``settings.json`` document."""
        return {
            "debug": False,  # True would return tracebacks to clients and log every request
            "host": self.host,
            "http_port": self.http_port,
            "grpc_port": self.grpc_port,
            "metrics_port": self.metrics_port,
            "parallel_workers": self.parallel_workers,
        }


def download_model(model_uri: str, dest: Path) -> Path:
    """Download ``model_uri`` into ``dest`` and return the folder holding its ``MLmodel``.

    Raises:
        TrackingServerUnavailable: the URI needs a tracking server and none answers.
        ModelNotFoundError: MLflow cannot resolve the URI, or it is not an MLflow model.
        UntrustedModelError: the model is not skops or trusts unreviewed types.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from house_price.tracking import ensure_server, tracking_uri

    if model_uri.startswith(("runs:/", "models:/")):
        ensure_server(tracking_uri())
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri,
                                                         dst_path=str(dest)))
    except MlflowException as error:
        raise ModelNotFoundError(
            f"cannot get model {model_uri!r} (tracking server {tracking_uri()}): "
            f"{error.message}; "
            f"give a model URI of the form {URI_FORMS}"
        ) from None
    found = [local] if (local / "MLmodel").is_file() else sorted(
        path.parent for path in local.glob("*/MLmodel"))
    if len(found) != 1:
        raise ModelNotFoundError(
            f"{model_uri!r} is not an MLflow model (no MLmodel file in it); "
            f"give a model URI of the form {URI_FORMS}"
        )
    check_model_dir(found[0])
    return found[0]


def python_version(model_dir: Path) -> str:
    """Return the model's Python as ``major.minor`` (from ``python_env.yaml``, else ``MLmodel``)."""
    env = model_dir / "python_env.yaml"
    if env.is_file():
        full = str(yaml.safe_load(env.read_text())["python"])
    else:
        mlmodel = yaml.safe_load((model_dir / "MLmodel").read_text())
        full = str(mlmodel["flavors"]["python_function"]["python_version"])
    return ".".join(full.split(".")[:2])


def model_requirements(model_dir: Path) -> list[str]:
    """Return the requirement lines of the model's ``requirements.txt``, options refused.

    Raises:
        ModelNotFoundError: the file is missing or refers to other files (``-r``, ``-c``).
    """
    path = model_dir / "requirements.txt"
    if not path.is_file():
        raise ModelNotFoundError(f"the model has no requirements.txt ({model_dir}); "
                                 "log it with `house-price train`")
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    lines = [line for line in lines if line]
    options = [line for line in lines if line.startswith("-")]
    if options:
        raise ModelNotFoundError(f"the model's requirements.txt uses pip options ({options[0]}); "
                                 "log the model with plain pinned requirements")
    return lines


def installed_version(name: str) -> str:
    """Return the installed version of ``name``.

    Raises:
        UserError: not installed; the message says how to install the serving extra.
    """
    try:
        return distribution(name).version
    except PackageNotFoundError:
        raise UserError(f"{name} is not installed: run `uv sync` at the repository root "
                        "(it installs housing-price-model[serve])") from None


def requirements(model_dir: Path) -> list[str]:
    """Return the image's requirements: the model's own, then the server's, pinned."""
    server = [f"{name}=={installed_version(name)}" for name in SERVER_PACKAGES]
    return [*model_requirements(model_dir), *server]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def constraints(requirement_lines: list[str]) -> list[str]:
    """Pin every package the requirements pull in to the version installed here.

    Without this, ``pip`` in the image would pick the newest versions the loose ranges of
    MLServer and MLflow allow, and the image would run code nobody tested (MLServer 1.7.1
    breaks with uvloop 0.22, for one).
    """
    from packaging.requirements import Requirement

    pinned: dict[str, str] = {}
    expanded: set[tuple[str, str]] = set()
    todo = [(Requirement(line), "") for line in requirement_lines]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = _canonical(requirement.name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # not needed on this platform, or an extra nobody installed
        pinned[name] = dist.version
        for wanted in {"", *requirement.extras} - {e for n, e in expanded if n == name}:
            expanded.add((name, wanted))
            todo.extend((Requirement(line), wanted) for line in dist.requires or [])
    return [f"{name}=={pinned[name]}" for name in sorted(pinned)]


def dockerfile(python: str, settings: ServerSettings) -> str:
    """Return the Dockerfile: dependencies in a cached layer, then the model, run as non-root."""
    ready = f"http://127.0.0.1:{settings.http_port}/v2/health/ready"
    probe = f"import urllib.request; urllib.request.urlopen('{ready}', timeout=3)"
    ports = f"{settings.http_port} {settings.grpc_port} {settings.metrics_port}"
    return f"""\
# Generated by house_price.context: regenerate it rather than editing it.
FROM python:{python}-slim

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    MLSERVER_METRICS_DIR=/tmp/mlserver-metrics \\
    MLSERVER_ENVIRONMENTS_DIR=/tmp/mlserver-envs

RUN useradd --create-home --uid 10001 --user-group mlserver

WORKDIR {IMAGE_WORKDIR}

# Dependencies before the model: this layer stays cached while only the model changes.
COPY requirements.txt constraints.txt ./
RUN pip install --no-cache-dir --requirement requirements.txt --constraint constraints.txt

COPY settings.json ./
COPY {MODEL_FOLDER}/ {MODEL_FOLDER}/

# Files stay owned by root: the server can read its model, not change it. Numeric, so that
# a runtime can check it is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE {ports}
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \\
    CMD ["python", "-c", "{probe}"]
CMD ["mlserver", "start", "."]
"""


def model_settings(max_body_bytes: int = MAX_BODY_BYTES) -> dict:
    """Return ``model-settings.json``: the model's name, runtime, folder and body size limit."""
    return {
        "name": MODEL_NAME,
        "implementation": RUNTIME,
        "parameters": {"uri": "./model", "extra": {"max_body_bytes": max_body_bytes}},
    }


def _check_replaceable(target: Path) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise ContextDirError(f"{target} is a file; give a folder for the build context")
    if any(target.iterdir()) and not all((target / name).is_file() for name in MARKERS):
        raise ContextDirError(
            f"{target} is not empty and is not a build context written here (no "
            f"{' or '.join(MARKERS)}); it is left untouched: choose an empty or new folder"
        )


def _fill(staging: Path, model_uri: str, settings: ServerSettings) -> None:
    model_dir = download_model(model_uri, staging / "download")
    (staging / MODEL_FOLDER).mkdir()
    shutil.move(model_dir, staging / MODEL_DIR)
    shutil.rmtree(staging / "download", ignore_errors=True)
    lines = requirements(staging / MODEL_DIR)
    (staging / "requirements.txt").write_text("\n".join(lines) + "\n")
    (staging / "constraints.txt").write_text("\n".join(constraints(lines)) + "\n")
    (staging / "settings.json").write_text(json.dumps(settings.to_json(), indent=2) + "\n")
    (staging / MODEL_FOLDER / "model-settings.json").write_text(
        json.dumps(model_settings(), indent=2) + "\n")
    package = staging / MODEL_FOLDER / "house_price"
    shutil.copytree(Path(__file__).parent / "serving", package / "serving",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (package / "__init__.py").write_text(STUB_INIT)
    python = python_version(staging / MODEL_DIR)
    (staging / "Dockerfile").write_text(dockerfile(python, settings))
    (staging / ".dockerignore").write_text(DOCKERIGNORE)


def write_context(
    model_uri: str,
    target: str | os.PathLike = DEFAULT_CONTEXT_DIR,
    settings: ServerSettings | None = None,
) -> Path:
    """Write the build context for ``model_uri`` into ``target``, replacing an older one.

    The context is assembled beside ``target`` and swapped in only when complete, so a failed
    download leaves the previous context as it was.

    Raises:
        ContextDirError: ``target`` holds something other than a context written here.
        ModelNotFoundError, TrackingServerUnavailable, UntrustedModelError: see
            ``download_model``.
    """
    target = Path(target).resolve()
    _check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the context from other users
    try:
        _fill(staging, model_uri, settings or ServerSettings())
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("Wrote the build context for %s to %s", model_uri, target)
    return target


def main(argv: list[str] | None = None) -> int:
    """Write a context from the command line; a ``UserError`` becomes one line on stderr."""
    from house_price.cli import configure_logging
    from house_price.serving.trusted import UntrustedModelError

    parser = argparse.ArgumentParser(prog="python -m house_price.context",
                                     description="Write the MLServer build context of a model.")
    parser.add_argument("model_uri", help=f"the model ({URI_FORMS})")
    parser.add_argument("target", nargs="?", default=str(DEFAULT_CONTEXT_DIR),
                        help="folder to write (default: housing-price-model/build)")
    args = parser.parse_args(argv)
    configure_logging(quiet=False)
    try:
        print(write_context(args.model_uri, args.target))
    except (UserError, UntrustedModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return getattr(error, "exit_code", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
