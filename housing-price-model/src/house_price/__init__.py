"""Train, track and serve one scikit-learn pipeline for Kaggle's House Prices data."""

__version__ = "0.1.0"
