"""``model-build.sh`` as an engineer runs it: arguments, errors, and the context it leaves."""

from __future__ import annotations

import pytest

from served import MODEL_BUILD, differing_files, model_build, seed_version_uri
from servers import free_port


@pytest.mark.parametrize("args", [[], ["models:/house-price-model@champion"],
                                  ["a", "b", "c"], ["--context"], ["--push", "a", "b"]])
def test_wrong_arguments_print_the_usage_line_and_exit_2(args):
    done = model_build(*args)

    assert done.returncode == 2
    assert "Usage: model-build.sh [--no-build] [--context DIR] MODEL_URI IMAGE_TAG" in done.stderr
    assert not done.stdout


def test_help_exits_0_with_the_usage():
    done = model_build("--help")

    assert done.returncode == 0
    assert done.stdout.startswith("Usage: model-build.sh")


def test_script_is_strict_and_executable():
    text = MODEL_BUILD.read_text()

    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert MODEL_BUILD.stat().st_mode & 0o111


def test_unreachable_tracking_server_says_how_to_start_one(tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"

    done = model_build("--no-build", "--context", str(tmp_path / "build"),
                       "models:/house-price-model@champion", "img",
                       env={"MLFLOW_TRACKING_URI": uri})

    assert done.returncode == 1
    assert f"no MLflow tracking server answers at {uri}" in done.stderr
    assert "start-mlflow.sh" in done.stderr
    assert not (tmp_path / "build").exists()


@pytest.mark.slow
def test_unknown_model_uri_names_the_model_and_the_accepted_forms(tracking_uri, tmp_path):
    done = model_build("--no-build", "--context", str(tmp_path / "build"),
                       "models:/no-such-model@champion", "img")

    assert done.returncode == 1
    assert "Registered Model with name=no-such-model not found" in done.stderr
    assert "models:/NAME@ALIAS" in done.stderr
    assert not (tmp_path / "build").exists()


def test_a_folder_that_is_not_a_context_is_left_untouched(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")

    done = model_build("--no-build", "--context", str(tmp_path), "models:/x@y", "img")

    assert done.returncode == 1
    assert "left untouched" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.slow
def test_without_a_docker_engine_the_context_is_written_and_the_exit_is_3(
        seed_run, built_context, tmp_path):
    context = tmp_path / "build"
    context.mkdir()
    for name in ("Dockerfile", "settings.json", "stale-file"):
        (context / name).write_text("from an older build")
    nowhere = f"unix://{tmp_path / 'no-docker.sock'}"

    done = model_build("--context", str(context), seed_version_uri(seed_run), "img:1",
                       env={"DOCKER_HOST": nowhere})

    assert done.returncode == 3
    assert "docker build -t img:1" in done.stderr
    assert not (context / "stale-file").exists()
    assert differing_files(context, built_context) == []
