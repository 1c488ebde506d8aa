"""The client: ``dataframe_split`` JSON, chunked posting, and the errors a user sees."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import requests

from house_price.client import (
    PredictionRequestError,
    ServerUnavailableError,
    invocations_url,
    post_frame,
    to_dataframe_split,
)

from served import run_cli
from servers import free_port


@pytest.fixture
def house_price(capsys):
    """Run ``house-price`` in this process; return its ``Outcome``."""
    return lambda *args: run_cli(capsys, *args)


def test_dataframe_split_sends_missing_values_as_null_and_numpy_as_plain_numbers():
    frame = pd.DataFrame({
        "Id": np.array([1461, 1462], dtype="int64"),
        "LotFrontage": [80.0, np.nan],
        "Alley": [None, "Pave"],
        "GarageCars": pd.array([2, pd.NA], dtype="Int64"),
    })

    split = to_dataframe_split(frame)

    assert split == {"dataframe_split": {
        "columns": ["Id", "LotFrontage", "Alley", "GarageCars"],
        "data": [[1461, 80.0, None, 2], [1462, None, "Pave", None]],
    }}
    assert type(split["dataframe_split"]["data"][0][0]) is int
    assert "NaN" not in json.dumps(split, allow_nan=False)


def test_dataframe_split_reads_back_as_the_same_frame():
    frame = pd.DataFrame({"a": [1.5, np.nan, 3.0], "b": ["x", None, "z"]})

    back = pd.DataFrame(**to_dataframe_split(frame)["dataframe_split"])

    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_an_infinite_number_is_refused_with_its_column():
    frame = pd.DataFrame({"LotArea": [np.inf], "Street": ["Pave"]})

    with pytest.raises(ValueError, match=r"'LotArea'.*infinite"):
        to_dataframe_split(frame)


@pytest.mark.parametrize("url", ["http://h:8080", "http://h:8080/", "http://h:8080/invocations"])
def test_server_address_or_endpoint_both_reach_invocations(url):
    assert invocations_url(url) == "http://h:8080/invocations"


def test_no_server_listening_says_how_to_start_one():
    url = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(ServerUnavailableError, match="house-price serve"):
        post_frame(url, pd.DataFrame({"a": [1.0]}))


@pytest.mark.slow
def test_a_server_that_is_not_the_model_server_is_reported_with_its_status(tracking_uri):
    with pytest.raises(PredictionRequestError, match=r"refused rows 1-1 with HTTP 404"):
        post_frame(tracking_uri, pd.DataFrame({"a": [1.0]}))


@pytest.mark.slow
def test_chunks_are_posted_in_order_and_give_what_one_request_gives(model_server, real_data_dir):
    frame = pd.read_csv(real_data_dir / "test.csv")
    session = requests.Session()
    posted = []
    session.hooks["response"].append(lambda response, **_: posted.append(response.request))

    chunked = post_frame(model_server.url, frame, chunk_rows=400, session=session)
    whole = post_frame(model_server.url, frame, chunk_rows=len(frame))

    assert len(posted) == 4  # 400 + 400 + 400 + 259 rows
    assert len(chunked) == len(frame)
    np.testing.assert_array_equal(chunked, whole)


@pytest.mark.slow
def test_a_refused_chunk_names_its_rows_and_the_servers_reason(model_server, real_data_dir):
    frame = pd.read_csv(real_data_dir / "test.csv").head(3)
    frame["LotArea"] = frame["LotArea"].astype(object)
    frame.loc[2, "LotArea"] = "a big one"

    with pytest.raises(PredictionRequestError) as error:
        post_frame(model_server.url, frame, chunk_rows=2)

    message = str(error.value)
    assert "refused rows 3-3 with HTTP 4" in message
    assert "LotArea" in message


def test_predict_without_the_input_file_is_one_line(house_price, tmp_path):
    done = house_price("predict", "--url", "http://127.0.0.1:9", "--input",
                       str(tmp_path / "nope.csv"), "--output", str(tmp_path / "out.csv"))

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"house-price: error: input file {tmp_path / 'nope.csv'} does not exist: give a CSV "
        "in the format of Kaggle's test.csv with --input"]


def test_predict_needs_an_id_column_and_writes_nothing_without_it(house_price, tmp_path):
    source = tmp_path / "rows.csv"
    source.write_text("LotArea,Street\n8450,Pave\n")

    done = house_price("predict", "--url", "http://127.0.0.1:9", "--input", str(source),
                       "--output", str(tmp_path / "out.csv"))

    assert done.returncode == 1
    assert "has no Id column" in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_predict_refuses_to_overwrite_its_input(house_price, tmp_path):
    source = tmp_path / "test.csv"
    source.write_text("Id,LotArea\n1461,8450\n")

    done = house_price("predict", "--url", "http://127.0.0.1:9", "--input", str(source),
                       "--output", str(source))

    assert done.returncode == 1
    assert "is the input file" in done.stderr
    assert source.read_text() == "Id,LotArea\n1461,8450\n"


def test_predict_needs_exactly_one_of_model_uri_and_url(house_price):
    done = house_price("predict", "--input", "a.csv", "--output", "b.csv")

    assert done.returncode == 2
    assert "one of the arguments --model-uri --url is required" in done.stderr


def test_predict_with_no_server_keeps_the_old_output(house_price, tmp_path):
    source = tmp_path / "test.csv"
    source.write_text("Id,LotArea\n1461,8450\n")
    output = tmp_path / "submission.csv"
    output.write_text("Id,SalePrice\n1461,1\n")

    done = house_price("predict", "--url", f"http://127.0.0.1:{free_port()}",
                       "--input", str(source), "--output", str(output))

    assert done.returncode == 1
    assert "no model server answers" in done.stderr
    assert output.read_text() == "Id,SalePrice\n1461,1\n"
