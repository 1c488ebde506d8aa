"""The MLServer runtime in process: what it refuses to load, and the pickle flag it leaves off."""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest
import yaml

pytestmark = pytest.mark.slow


def runtime_for(model_dir):
    """Return a ``HousePriceRuntime`` configured as model-settings.json configures it."""
    from mlserver.settings import ModelParameters, ModelSettings

    from house_price.serving.runtime import HousePriceRuntime

    settings = ModelSettings(name="house-price-model", implementation=HousePriceRuntime,
                             parameters=ModelParameters(uri=str(model_dir)))
    return HousePriceRuntime(settings)


@pytest.fixture
def pickle_flag_unset(monkeypatch):
    from house_price.serving.trusted import ALLOW_FLAG

    monkeypatch.delenv(ALLOW_FLAG, raising=False)
    return ALLOW_FLAG


def test_a_model_trusting_an_unreviewed_type_is_refused_before_loading(
        built_context, tmp_path, pickle_flag_unset):
    from house_price.serving.trusted import UntrustedModelError

    model = tmp_path / "model"
    shutil.copytree(built_context / "house-price-model" / "model", model)
    mlmodel = yaml.safe_load((model / "MLmodel").read_text())
    mlmodel["flavors"]["sklearn"]["skops_trusted_types"].append("builtins.eval")
    (model / "MLmodel").write_text(yaml.safe_dump(mlmodel))

    with pytest.raises(UntrustedModelError, match=r"builtins\.eval"):
        asyncio.run(runtime_for(model).load())

    assert pickle_flag_unset not in os.environ


def test_the_reviewed_model_loads_and_the_pickle_flag_is_off_again(
        built_context, pickle_flag_unset):
    runtime = runtime_for(built_context / "house-price-model" / "model")

    assert asyncio.run(runtime.load())
    assert "LotArea" in {tensor.name for tensor in runtime.inputs}  # the signature, read
    assert pickle_flag_unset not in os.environ
