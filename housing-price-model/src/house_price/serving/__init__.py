"""Code that runs inside the model server.

This subpackage is copied as it is into the Docker build context next to
``model-settings.json``, so it imports only itself, MLServer, MLflow, pandas, numpy and yaml,
never the rest of ``house_price`` (which needs training and plotting packages).
"""
