"""The ``house-price`` command as a user runs it: a real process, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from servers import free_port


def house_price(*args: str, env: dict | None = None, timeout: float = 300):
    """Run the CLI in a subprocess and return the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "house_price.cli", *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )


def test_help_lists_train():
    done = house_price("--help")

    assert done.returncode == 0
    assert "train" in done.stdout


def test_missing_data_is_one_line_and_exit_code_2(tmp_path):
    done = house_price("-q", "train", "--data", str(tmp_path))

    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "kaggle competitions download" in done.stderr
    assert str(tmp_path) in done.stderr


def test_unreachable_tracking_server_says_how_to_start_one(synthetic_data_dir):
    uri = f"http://127.0.0.1:{free_port()}"

    done = house_price("-q", "train", "--data", str(synthetic_data_dir),
                       env={"MLFLOW_TRACKING_URI": uri}, timeout=60)

    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert uri in done.stderr and "start-mlflow.sh" in done.stderr


def test_unknown_model_is_refused_by_the_parser():
    done = house_price("train", "--model", "nope")

    assert done.returncode == 2
    assert "invalid choice" in done.stderr


@pytest.mark.slow
def test_train_prints_tutorial_figures_and_registers_champion(tracking_uri, real_data_dir):
    done = house_price("train", "--data", str(real_data_dir), "--register",
                       "--experiment", "cli-test")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "RMSE: 28413.02" in lines
    assert "MAE: 17463.92" in lines
    assert "Model URI: models:/house-price-model@champion" in lines
    assert any(line.startswith("Run ID: ") for line in lines)
    assert "[3/4] Training 'seed'" in done.stderr
