"""Feature-engineering transformers: each one's rule, unseen values and all-missing rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import check_estimator

from house_price.features import encoded_groups, engineer, feature_pipeline_steps
from house_price.serving.features import (
    CategoryIndicators,
    CombinedFeatures,
    FeatureChain,
    FillByMeaning,
    GroupMedianImputer,
    OrdinalScales,
    SkewCorrector,
)

from synthetic import make_frame


def fitted_transform(transformer, frame: pd.DataFrame) -> pd.DataFrame:
    return transformer.fit(frame).transform(frame)


def test_fill_by_meaning_reads_missing_as_absent_and_keeps_unknowns_missing():
    frame = pd.DataFrame({
        "GarageType": pd.Series([np.nan, "Attchd"], dtype="str"),
        "BsmtFinSF1": [np.nan, 300.0],
        "GarageYrBlt": [np.nan, 1990.0],
        "YearBuilt": [1950.0, 1985.0],
        "MSZoning": pd.Series([np.nan, "RL"], dtype="str"),
        "LotFrontage": [np.nan, 60.0],
    })

    out = fitted_transform(FillByMeaning(), frame)

    assert out["GarageType"].tolist() == ["None", "Attchd"]
    assert out["BsmtFinSF1"].tolist() == [0.0, 300.0]
    assert out["GarageYrBlt"].tolist() == [1950.0, 1990.0]
    # Zoning and frontage are not "none" when missing: they stay for the imputers.
    assert out["MSZoning"].isna().tolist() == [True, False]
    assert out["LotFrontage"].isna().tolist() == [True, False]
    assert not pd.api.types.is_numeric_dtype(out["MSZoning"])


def test_fill_by_meaning_leaves_the_input_untouched():
    frame = pd.DataFrame({"Alley": [np.nan], "MasVnrArea": [np.nan]})
    FillByMeaning().fit(frame).transform(frame)
    assert frame.isna().all(axis=None)


def test_fill_by_meaning_reads_an_all_missing_text_column_of_floats_as_text():
    frame = pd.DataFrame({"Alley": [np.nan], "PoolQC": [None], "MSZoning": [None]})
    out = fitted_transform(FillByMeaning(), frame)
    assert out.iloc[0].tolist()[:2] == ["None", "None"]
    assert out["MSZoning"].tolist()[0] is np.nan


def test_group_median_imputer_uses_the_group_then_the_overall_median():
    train = pd.DataFrame({"Neighborhood": ["A", "A", "A", "B", "B"],
                          "LotFrontage": [50.0, 60.0, 70.0, 100.0, np.nan]})
    imputer = GroupMedianImputer().fit(train)
    rows = pd.DataFrame({"Neighborhood": ["A", "B", "Unseen", np.nan, "A"],
                         "LotFrontage": [np.nan, np.nan, np.nan, np.nan, 42.0]})

    out = imputer.transform(rows)

    assert out["LotFrontage"].tolist() == [60.0, 100.0, 65.0, 65.0, 42.0]


def test_group_median_imputer_falls_back_to_zero_when_training_had_no_value():
    train = pd.DataFrame({"Neighborhood": ["A"], "LotFrontage": [np.nan]})
    rows = pd.DataFrame({"Neighborhood": ["A"], "LotFrontage": [np.nan]})
    assert GroupMedianImputer().fit(train).transform(rows)["LotFrontage"].tolist() == [0.0]


def test_ordinal_scales_add_ranks_and_keep_labels():
    frame = pd.DataFrame({"KitchenQual": ["Po", "Ex", "TA", "Excellent!", np.nan],
                          "BsmtExposure": ["None", "No", "Mn", "Av", "Gd"]})

    out = fitted_transform(OrdinalScales(), frame)

    assert out["KitchenQualRank"].tolist()[:3] == [1.0, 5.0, 3.0]
    assert out["KitchenQualRank"].iloc[3:].isna().all()  # unknown label, missing label
    assert out["BsmtExposureRank"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert out["KitchenQual"].tolist()[:2] == ["Po", "Ex"]


def combined_input(**overrides) -> pd.DataFrame:
    row = {"TotalBsmtSF": 800.0, "1stFlrSF": 900.0, "2ndFlrSF": 600.0, "FullBath": 2.0,
           "HalfBath": 1.0, "BsmtFullBath": 1.0, "BsmtHalfBath": 0.0, "OpenPorchSF": 40.0,
           "EnclosedPorch": 0.0, "3SsnPorch": 0.0, "ScreenPorch": 20.0, "WoodDeckSF": 100.0,
           "YrSold": 2008.0, "YearBuilt": 1990.0, "YearRemodAdd": 2000.0, "GarageArea": 0.0,
           "Fireplaces": 1.0, "PoolArea": 0.0}
    return pd.DataFrame([row | overrides])


def test_combined_features_add_totals_ages_and_flags():
    out = fitted_transform(CombinedFeatures(), combined_input()).iloc[0]

    assert out["TotalSF"] == 2300.0
    assert out["TotalBath"] == 3.5
    assert out["PorchSF"] == 160.0
    assert (out["AgeAtSale"], out["YearsSinceRemodel"], out["Remodeled"]) == (18.0, 8.0, 1.0)
    assert (out["Has2ndFlr"], out["HasGarage"], out["HasFireplace"]) == (1.0, 0.0, 1.0)


def test_combined_features_are_missing_when_their_inputs_are():
    out = fitted_transform(CombinedFeatures(),
                           combined_input(TotalBsmtSF=np.nan, YearRemodAdd=np.nan)).iloc[0]

    assert np.isnan(out["TotalSF"]) and np.isnan(out["HasBsmt"])
    assert np.isnan(out["Remodeled"]) and np.isnan(out["YearsSinceRemodel"])
    assert out["AgeAtSale"] == 18.0


def test_combined_features_never_give_a_negative_age():
    out = fitted_transform(CombinedFeatures(), combined_input(YrSold=1985.0)).iloc[0]
    assert out["AgeAtSale"] == 0.0


def test_skew_corrector_logs_only_skewed_non_negative_columns():
    rng = np.random.default_rng(0)
    heavy = rng.lognormal(3, 1, 500)
    symmetric = rng.normal(10, 1, 500)
    signed = -rng.lognormal(3, 1, 500)
    X = np.column_stack([heavy, symmetric, signed])

    corrector = SkewCorrector().fit(X)
    out = corrector.transform(X)

    assert corrector.skewed_.tolist() == [0]
    np.testing.assert_allclose(out[:, 0], np.log1p(heavy))
    np.testing.assert_array_equal(out[:, 1:], X[:, 1:])


def test_skew_corrector_clips_unseen_negatives_and_keeps_missing_values():
    X = np.r_[np.zeros(50), np.arange(1, 6) ** 4.0].reshape(-1, 1)
    corrector = SkewCorrector().fit(X)

    out = corrector.transform(np.array([[-5.0], [np.nan]]))

    assert corrector.skewed_.tolist() == [0]
    assert out[0, 0] == 0.0
    assert np.isnan(out[1, 0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_skew_corrector_is_a_well_behaved_scikit_learn_estimator():
    check_estimator(SkewCorrector())


def test_category_indicators_match_one_hot_encoding_and_ignore_unknowns():
    from sklearn.preprocessing import OneHotEncoder

    train = pd.DataFrame({"Street": pd.Series(["Pave", "Grvl", "Pave"], dtype="str"),
                          "MSSubClass": [20.0, 60.0, 20.0]})
    rows = pd.DataFrame({"Street": ["Grvl", "Dirt", np.nan], "MSSubClass": [60, 20.0, 190.0]})
    indicators = CategoryIndicators().fit(train)
    reference = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(train)

    out = indicators.transform(rows)

    np.testing.assert_array_equal(out, [[1, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(out, reference.transform(rows.fillna("Dirt")))
    assert indicators.get_feature_names_out().tolist() == [
        "Street_Grvl", "Street_Pave", "MSSubClass_20.0", "MSSubClass_60.0"]


def test_feature_chain_equals_its_steps_run_one_after_the_other():
    frame = make_frame(60, seed=4).drop(columns=["SalePrice"])
    steps = [("fill", FillByMeaning()), ("lot", GroupMedianImputer())]

    chain = FeatureChain(steps).fit(frame)
    chained = chain.transform(frame)
    by_hand = frame
    for _, step in steps:
        by_hand = step.fit(by_hand).transform(by_hand)

    pd.testing.assert_frame_equal(chained, by_hand)
    assert chain.steps_[1][1] is not steps[1][1]  # it fits clones, not its parameters


@pytest.fixture(scope="module")
def synthetic_features() -> pd.DataFrame:
    from house_price.data import as_model_input

    return as_model_input(make_frame(120, seed=3)).drop(columns=["Id", "SalePrice"])


def test_engineered_frame_has_no_missing_absence_and_typed_groups(synthetic_features):
    engineered = engineer(synthetic_features)
    numeric, categorical = encoded_groups(engineered)

    assert engineered["GarageQual"].notna().all()
    assert engineered["TotalBsmtSF"].notna().all()
    assert "MSSubClass" in categorical and "TotalSF" in numeric
    assert set(numeric).isdisjoint(categorical)
    assert set(numeric) | set(categorical) == set(engineered.columns)


@pytest.fixture(scope="module")
def feature_pipeline(synthetic_features):
    from sklearn.pipeline import Pipeline

    return Pipeline(feature_pipeline_steps(synthetic_features)).fit(synthetic_features)


def all_missing(like: pd.DataFrame, dtype: str) -> pd.DataFrame:
    return pd.DataFrame({name: [np.nan] for name in like.columns}, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "object"])
def test_feature_pipeline_encodes_an_all_missing_row_to_finite_numbers(
        feature_pipeline, synthetic_features, dtype):
    encoded = feature_pipeline.transform(all_missing(synthetic_features, dtype))
    assert encoded.shape[0] == 1
    assert np.isfinite(encoded).all()


def test_feature_pipeline_ignores_unseen_categories_and_survives_huge_values(
        feature_pipeline, synthetic_features):
    odd = synthetic_features.iloc[:2].copy()
    odd["Neighborhood"] = "Atlantis"
    odd["KitchenQual"] = "Superb"
    odd["GrLivArea"] = 1e7

    encoded = feature_pipeline.transform(odd)

    assert np.isfinite(encoded).all()
    expected = feature_pipeline.transform(synthetic_features.iloc[:2])
    assert encoded.shape == expected.shape
