"""Batch prediction: one CSV row per input image, with the champion's label and probability."""

from __future__ import annotations

import csv

from {{ cookiecutter.__package_name }} import config

from conftest import PREDICTION_IMAGES, assert_one_line_error


def test_batch_prediction_writes_one_row_per_input(cycles, prediction_input) -> None:
    with (cycles["first"].artifacts / "predictions.csv").open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))

    assert len(rows) == PREDICTION_IMAGES
{%- if cookiecutter.data_source == 'postgres' %}
    assert [row["input"] for row in rows] == [str(number) for number in range(PREDICTION_IMAGES)], "in id order"
{%- else %}
    assert [row["input"] for row in rows] == sorted(row["input"] for row in rows), "in path order"
    assert all(row["input"].startswith("batch-") and row["input"].endswith(".png") for row in rows)
{%- endif %}
    assert {row["label"] for row in rows} <= {str(digit) for digit in range(10)}
    assert all(0 < float(row["probability"]) <= 1 for row in rows)


def test_runs_without_a_prediction_input_skip_the_step(cycles) -> None:
    assert "--- predict: skipped, the parameter prediction-input is empty" in cycles["worse"].result.stdout
    assert not (cycles["worse"].artifacts / "predictions.csv").exists()


def test_an_empty_prediction_input_is_one_line(run_cli, database_env) -> None:
    result = run_cli("steps.predict", "--prediction-input", " ", "--predictions", "p.csv", env=database_env)

    assert_one_line_error(result, 2, "--prediction-input is empty")
{%- if cookiecutter.data_source == 'postgres' %}


def test_a_table_without_the_columns_is_one_line(run_cli, database_env, database_url) -> None:
    from conftest import create_table, drop_table

    table = create_table(database_url, "image bytea", [], "image")
    try:
        result = run_cli("steps.predict", "--prediction-input", table, "--predictions", "p.csv", env=database_env)
    finally:
        drop_table(database_url, table)

    assert_one_line_error(result, 2, table, "needs columns id and image")
{%- else %}


def test_a_folder_without_images_is_one_line(run_cli, workdir) -> None:
    (workdir / "empty" / "sub").mkdir(parents=True)
    (workdir / "empty" / "notes.txt").write_text("no images here")

    result = run_cli("steps.predict", "--prediction-input", "empty", "--predictions", "p.csv")

    assert_one_line_error(result, 2, "empty holds no images")
    assert not (workdir / "p.csv").exists()
{%- endif %}


def test_the_model_must_be_registered(run_cli, workdir, tracking_uri, prediction_input, database_env) -> None:
    args = ["--prediction-input", prediction_input, "--predictions", "p.csv", "--tracking-uri", tracking_uri]

    result = run_cli(
        "steps.predict", *args, "--registered-model-name", f"{config.PROJECT_NAME}-unknown", env=database_env
    )

    assert_one_line_error(result, 2, "cannot load", "unknown@champion")
    assert not (workdir / "p.csv").exists()
