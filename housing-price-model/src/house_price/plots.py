"""Plotly figures shared by the notebook and the MLflow run."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from house_price.data import TARGET


def sale_price_histogram(train: pd.DataFrame) -> go.Figure:
    """Histogram of ``SalePrice`` with a box plot in the margin."""
    return px.histogram(train, x=TARGET, marginal="box", title="Distribution of SalePrice")


def missing_share(frame: pd.DataFrame) -> pd.Series:
    """Return the percentage of missing values per column, largest first, zeros left out."""
    share = frame.isna().mean().mul(100)
    return share[share > 0].sort_values(ascending=False)


def missing_bar(frame: pd.DataFrame) -> go.Figure:
    """Bar chart of the percentage of missing values per column (columns with none omitted)."""
    share = missing_share(frame)
    return px.bar(
        x=share.index,
        y=share.values,
        labels={"x": "column", "y": "missing (%)"},
        title="Missing values per column",
    )


def actual_vs_predicted(y_true, y_pred) -> go.Figure:
    """Scatter of validation prices against predictions, with the line of perfect prediction."""
    frame = pd.DataFrame({"actual": list(y_true), "predicted": list(y_pred)})
    figure = px.scatter(frame, x="actual", y="predicted", title="Actual vs predicted SalePrice")
    low, high = frame.min().min(), frame.max().max()
    figure.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name="perfect"))
    return figure


def prediction_histogram(predictions) -> go.Figure:
    """Histogram of predicted prices for ``test.csv``."""
    return px.histogram(x=list(predictions), labels={"x": "predicted SalePrice"},
                        title="Predicted SalePrice on test.csv")
