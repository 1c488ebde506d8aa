"""The training notebook: committed clean, built on the package, executed by a real kernel."""

from __future__ import annotations

import ast
import json
import sys

import mlflow
import nbformat
import numpy as np
import plotly.offline
import pytest
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell

from house_price.data import load_test
from house_price.tracking import DEFAULT_EXPERIMENT
from house_price.trust import load_pyfunc

from run_notebook import execute, read_notebook

PLOTLY_MIME = "application/vnd.plotly.v1+json"
FIGURE_CELLS = 4  # SalePrice histogram, missing values, actual vs predicted, test predictions


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_notebook_is_committed_without_outputs_or_execution_counts():
    notebook = read_notebook()
    nbformat.validate(notebook)

    dirty = [i for i, cell in enumerate(code_cells(notebook))
             if cell.outputs or cell.execution_count is not None]

    assert not dirty, (
        f"code cells {dirty} have outputs or execution counts: clear them with `uv run jupyter "
        "nbconvert --clear-output --inplace housing-price-model/notebooks/train_model.ipynb`"
    )
    assert "widgets" not in notebook.metadata, "saved widget state: clear it before committing"


def test_notebook_defines_nothing_the_package_owns():
    trees = [ast.parse(cell.source) for cell in code_cells(read_notebook())]
    nodes = [node for tree in trees for node in ast.walk(tree)]

    definitions = [node.name for node in nodes
                   if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    modules = {node.module for node in nodes if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in nodes if isinstance(node, ast.Import)
                for alias in node.names}

    assert not definitions, f"move {definitions} into the house_price package"
    sklearn = sorted(m for m in modules if m.split(".")[0] == "sklearn")
    assert not sklearn, f"build estimators in house_price/pipeline.py, not from {sklearn}"
    assert {"house_price", "house_price.train"} <= modules


def outputs_of(cell, kind):
    return [output for output in cell.outputs if output.output_type == kind]


def stdout_of(cell) -> str:
    return "".join(output.text for output in outputs_of(cell, "stream") if output.name == "stdout")


def experiment_run_ids() -> set[str]:
    runs = mlflow.search_runs(experiment_names=[DEFAULT_EXPERIMENT], output_format="list")
    return {run.info.run_id for run in runs}


@pytest.fixture(scope="module")
def executed(real_data_dir, tracking_uri):
    """The notebook run top to bottom, with a last cell that reports the kernel's environment.

    Returns ``(executed notebook, id of the one run it logged)``.
    """
    notebook = read_notebook()
    notebook.cells.append(new_code_cell("import sys\nprint(sys.prefix)"))
    before = experiment_run_ids()
    result = execute(notebook, {"MLFLOW_TRACKING_URI": tracking_uri,
                                "HOUSE_PRICES_DATA_DIR": str(real_data_dir)})
    (run_id,) = experiment_run_ids() - before
    return result, run_id


@pytest.fixture(scope="module")
def notebook_predictions(executed, real_data_dir):
    """Predictions on ``test.csv`` of the model the notebook logged, loaded back from MLflow."""
    _, run_id = executed
    return load_pyfunc(f"runs:/{run_id}/model").predict(load_test(real_data_dir))


@pytest.mark.slow
def test_notebook_runs_clean_in_the_projects_environment(executed):
    notebook, _ = executed
    cells = code_cells(notebook)

    assert not [output for cell in cells for output in outputs_of(cell, "error")]
    assert all(cell.execution_count for cell in cells)
    assert stdout_of(cells[-1]).strip() == sys.prefix


@pytest.mark.slow
def test_notebook_logs_the_tutorial_run_with_figure_and_loadable_model(executed,
                                                                      notebook_predictions):
    _, run_id = executed
    run = mlflow.get_run(run_id)
    artifacts = {item.path for item in mlflow.MlflowClient().list_artifacts(run_id)}

    assert mlflow.get_experiment(run.info.experiment_id).name == DEFAULT_EXPERIMENT
    assert round(run.data.metrics["RMSE"], 2) == 28413.02
    assert round(run.data.metrics["MAE"], 2) == 17463.92
    assert "actual_vs_predicted.html" in artifacts
    assert len(notebook_predictions) == 1459


@pytest.mark.slow
def test_notebook_run_equals_the_cli_run(executed, notebook_predictions, seed_run,
                                         real_data_dir):
    _, run_id = executed
    cli_result, cli_logged = seed_run
    notebook_run, cli_run = mlflow.get_run(run_id), mlflow.get_run(cli_logged.run_id)

    cli_predictions = cli_result.model.predict(load_test(real_data_dir))

    for name in ("RMSE", "MAE"):
        assert notebook_run.data.metrics[name] == cli_run.data.metrics[name]
    assert notebook_run.data.params == cli_run.data.params
    digests = [run.inputs.dataset_inputs[0].dataset.digest for run in (notebook_run, cli_run)]
    assert digests[0] == digests[1]
    np.testing.assert_array_equal(notebook_predictions, cli_predictions)


@pytest.mark.slow
def test_notebook_figures_are_interactive_and_survive_html_export(executed):
    notebook, _ = executed
    bundles = [output.data for cell in code_cells(notebook)
               for output in outputs_of(cell, "display_data")]
    figures = [data for data in bundles if PLOTLY_MIME in data]

    html, _ = HTMLExporter().from_notebook_node(notebook)

    assert len(figures) == FIGURE_CELLS
    assert all("text/html" in data for data in figures)
    assert html.count("Plotly.newPlot") == FIGURE_CELLS
    # plotly.js itself is embedded once, so the exported page needs no network to draw them.
    assert html.count(f"plotly.js v{plotly.offline.get_plotlyjs_version()}") == 1


@pytest.mark.slow
def test_notebook_prints_a_dataframe_split_request_for_five_test_rows(executed, real_data_dir):
    notebook, _ = executed
    request_cell = next(cell for cell in code_cells(notebook)
                        if "to_dataframe_split(" in cell.source)

    payload = json.loads(stdout_of(request_cell))

    split = payload["dataframe_split"]
    assert split["columns"] == load_test(real_data_dir).columns.tolist()
    assert len(split["data"]) == 5
