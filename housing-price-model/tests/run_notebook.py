"""Execute the training notebook headless, with a real Jupyter kernel, as the tests and bench do."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "train_model.ipynb"


def read_notebook(path: Path = NOTEBOOK) -> nbformat.NotebookNode:
    """Read ``path`` as an nbformat 4 notebook."""
    return nbformat.read(path, as_version=4)


def execute(notebook: nbformat.NotebookNode, env: dict[str, str], timeout: float = 600):
    """Run every cell of ``notebook`` top to bottom, in the notebook's folder, and return it.

    The kernel gets this process's environment plus ``env``. It is the notebook's ``python3``
    kernelspec, which Jupyter resolves to this interpreter: the project's environment.
    Raises ``nbclient.exceptions.CellExecutionError`` at the first failing cell.
    """
    client = NotebookClient(notebook, timeout=timeout,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    return client.execute(env={**os.environ, **env})
