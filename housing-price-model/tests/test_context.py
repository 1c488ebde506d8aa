"""The Docker build context: its contents, its lint, and what it may replace."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from house_price.context import (
    ContextDirError,
    ModelNotFoundError,
    constraints,
    download_model,
    python_version,
    write_context,
)
from house_price.serving.trusted import check_model_dir

SERVING_SOURCE = Path(__file__).resolve().parents[1] / "src" / "house_price" / "serving"
# What a client, notebook, tracking server or test needs, and the image must not carry.
NOT_IN_IMAGE = ("jupyterlab", "notebook", "ipykernel", "anywidget", "nbclient", "nbformat",
                "plotly", "pytest", "ruff", "hadolint", "housing-price-model", "requests",
                "gunicorn", "huey", "sqlalchemy", "alembic")
# What house_price.serving may import: itself, the standard library, the server's packages and
# the model's own requirements; nothing else of house_price is in the image.
SERVING_IMPORTS = {"mlserver", "mlserver_mlflow", "mlflow", "pandas", "numpy", "yaml",
                   "fastapi", "starlette", "pydantic", "sklearn"}


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess:
    """Lint ``dockerfile`` with hadolint, failing on any finding, info included."""
    executable = Path(sys.executable).with_name("hadolint")
    return subprocess.run(
        [str(executable), "--no-color", "--failure-threshold", "info", str(dockerfile)],
        capture_output=True, text=True, timeout=120,
    )


def requirement_names(path: Path) -> dict[str, str]:
    """Map each requirement of a pinned file to its version."""
    pairs = (line.split("==") for line in path.read_text().split())
    return {name.lower(): pinned for name, pinned in pairs}


def model_dir_of(context: Path) -> Path:
    """Return the MLflow model folder inside a build context."""
    return context / "house-price-model" / "model"


@pytest.mark.slow
def test_dockerfile_passes_hadolint_with_every_rule(built_context):
    linted = hadolint(built_context / "Dockerfile")

    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_hadolint_rejects_a_careless_dockerfile(tmp_path):
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN pip install mlserver\nCMD mlserver start .\n")

    linted = hadolint(careless)

    assert linted.returncode != 0
    assert "DL3007" in linted.stdout  # the :latest tag


@pytest.mark.slow
def test_dockerfile_installs_dependencies_before_copying_the_model_and_drops_root(built_context):
    lines = [line for line in (built_context / "Dockerfile").read_text().splitlines()
             if line and not line.startswith("#")]
    model_dir = model_dir_of(built_context)
    python = yaml.safe_load((model_dir / "python_env.yaml").read_text())["python"]

    def index(prefix: str) -> int:
        return next(i for i, line in enumerate(lines) if line.startswith(prefix))

    assert lines[0] == f"FROM python:{'.'.join(python.split('.')[:2])}-slim"
    assert index("COPY requirements.txt") < index("RUN pip install") < index("COPY house-price")
    user = lines[index("USER")].split()[1]
    assert user.split(":")[0] not in ("root", "0")
    assert "EXPOSE 8080 8081 8082" in lines
    assert "/v2/health/ready" in lines[index("HEALTHCHECK") + 1]
    assert lines[-1] == 'CMD ["mlserver", "start", "."]'


@pytest.mark.slow
def test_settings_listen_on_every_container_interface_on_the_documented_ports(built_context):
    settings = json.loads((built_context / "settings.json").read_text())
    model = json.loads((built_context / "house-price-model" / "model-settings.json").read_text())

    assert (settings["host"], settings["http_port"], settings["grpc_port"],
            settings["metrics_port"]) == ("0.0.0.0", 8080, 8081, 8082)
    assert settings["debug"] is False
    assert model["name"] == "house-price-model"
    assert model["implementation"] == "house_price.serving.runtime.HousePriceRuntime"


@pytest.mark.slow
def test_requirements_are_the_models_plus_pinned_server_and_nothing_else(built_context):
    model_dir = model_dir_of(built_context)
    wanted = requirement_names(built_context / "requirements.txt")
    pinned = requirement_names(built_context / "constraints.txt")

    assert wanted.items() >= requirement_names(model_dir / "requirements.txt").items()
    assert wanted["mlserver"] == wanted["mlserver-mlflow"] == "1.7.1"
    assert wanted["uvloop"] == "0.21.0"
    assert not [name for name in wanted if name.startswith(NOT_IN_IMAGE)]
    assert all(pinned[name] == version for name, version in wanted.items())
    assert pinned["fastapi"] == version("fastapi")  # transitive ones pinned as tested here


@pytest.mark.slow
def test_context_carries_a_checked_skops_model_and_the_serving_package(built_context):
    folder = built_context / "house-price-model"
    copied = sorted(p.name for p in (folder / "house_price" / "serving").glob("*.py"))
    package = sorted(p.name for p in (folder / "house_price").iterdir())

    check_model_dir(folder / "model")
    assert (folder / "model" / "model.skops").is_file()
    assert copied == sorted(p.name for p in SERVING_SOURCE.glob("*.py"))
    assert package == ["__init__.py", "serving"]  # nothing else of house_price


def test_serving_package_imports_only_itself_the_server_and_the_standard_library():
    foreign = []
    for path in SERVING_SOURCE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            top = {name.split(".")[0] for name in names}
            foreign += [f"{path.name}: {name}" for name in top
                        if name not in SERVING_IMPORTS | set(sys.stdlib_module_names)]

    assert not foreign


@pytest.mark.slow
def test_copied_runtime_is_what_imports_without_the_installed_package(built_context):
    folder = built_context / "house-price-model"
    source = str(SERVING_SOURCE.parents[1])
    code = ("import sys; "
            f"sys.path[:] = [{str(folder)!r}] + [p for p in sys.path if p != {source!r}]; "
            "from house_price.serving.runtime import HousePriceRuntime; "
            "import house_price.serving.features; import house_price; print(house_price.__file__)")

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=folder.parent, timeout=120)

    assert done.stdout.strip() == str(folder / "house_price" / "__init__.py"), done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("form", ["runs", "models-alias", "models-version", "models-id"])
def test_every_model_uri_form_downloads_the_model_it_names(form, seed_run, tmp_path):
    from mlflow import MlflowClient

    _, logged = seed_run
    uri, expected = {
        "runs": (f"runs:/{logged.run_id}/model", logged.model_uri),
        "models-version": (f"models:/house-price-model/{logged.version}", logged.model_uri),
        "models-id": (logged.model_uri, logged.model_uri),
        # Other tests may have moved the alias since the seed was registered.
        "models-alias": ("models:/house-price-model@champion", MlflowClient()
                         .get_model_version_by_alias("house-price-model", "champion").source),
    }[form]

    local = download_model(uri, tmp_path)

    mlmodel = yaml.safe_load((local / "MLmodel").read_text())
    assert f"models:/{mlmodel['model_id']}" == expected
    assert expected.startswith("models:/m-")


@pytest.mark.slow
def test_unknown_registered_model_is_named_with_the_accepted_forms(tracking_uri, tmp_path):
    with pytest.raises(ModelNotFoundError) as error:
        download_model("models:/no-such-model@champion", tmp_path)

    assert "no-such-model" in str(error.value)
    assert "models:/NAME@ALIAS" in str(error.value)


def test_a_failed_download_leaves_the_previous_context_as_it_was(tmp_path):
    old = tmp_path / "build"
    old.mkdir()
    for name in ("Dockerfile", "settings.json", "notes.txt"):
        (old / name).write_text(name)

    with pytest.raises(ModelNotFoundError):
        write_context(str(tmp_path / "no-such-model"), old)

    assert sorted(p.name for p in old.iterdir()) == ["Dockerfile", "notes.txt", "settings.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["build"]  # no staging folder left


def test_a_folder_that_is_not_a_context_is_never_replaced(tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")

    with pytest.raises(ContextDirError, match="left untouched"):
        write_context("models:/house-price-model@champion", tmp_path)

    assert (tmp_path / "thesis.tex").read_text() == "years of work"


def test_python_version_is_major_minor_of_the_models_environment(tmp_path):
    (tmp_path / "python_env.yaml").write_text("python: 3.12.1\nbuild_dependencies: [pip]\n")

    assert python_version(tmp_path) == "3.12"


def test_constraints_pin_the_whole_dependency_closure_as_installed():
    pins = dict(line.split("==") for line in constraints(["mlserver-mlflow==1.7.1"]))

    assert pins["mlserver-mlflow"] == "1.7.1"
    assert pins["mlserver"] == version("mlserver")  # a dependency
    assert pins["starlette"] == version("starlette")  # a dependency of a dependency
    assert all(re.fullmatch(r"[a-z0-9-]+", name) for name in pins)
