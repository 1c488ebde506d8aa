"""Code that runs inside the model server.

This subpackage is copied as it is into the Docker build context next to
``model-settings.json``, so it imports only itself, MLServer, MLflow, scikit-learn, pandas,
numpy and yaml, never the rest of ``house_price`` (which needs training and plotting packages).
The feature transformers live here because a saved model names them by this module path.
"""
