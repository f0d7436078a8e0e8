"""Registry and champion alias against a real MLflow tracking server."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient

from {{ cookiecutter.__package_name }}.train import train

pytestmark = pytest.mark.service


def test_champion_alias_moves_only_to_a_better_model(make_settings, mlflow_server):
    def settings(*flags: str):
        return make_settings(*flags, tracking_uri=mlflow_server)

    client = MlflowClient(mlflow_server)
    first_settings = settings("--epochs", "1", "--learning-rate", "0.0003")
    name = first_settings.registered_model_name

    first = train(first_settings)
    assert first.promotion is not None and first.promotion.promoted
    assert str(client.get_model_version_by_alias(name, "champion").version) == first.promotion.version

    worse = train(settings("--epochs", "1", "--learning-rate", "1e-7"))
    assert worse.test_accuracy < first.test_accuracy
    assert worse.promotion is not None and not worse.promotion.promoted
    assert client.get_model_version(name, worse.promotion.version).status == "READY"
    assert str(client.get_model_version_by_alias(name, "champion").version) == first.promotion.version
    # The champion was scored again, on the same held-out images as the candidate.
    assert client.get_run(worse.run_id).data.metrics["champion_test_accuracy"] == pytest.approx(first.test_accuracy)

    better = train(settings("--epochs", "4"))
    assert better.test_accuracy > first.test_accuracy
    assert better.promotion is not None and better.promotion.promoted
    assert str(client.get_model_version_by_alias(name, "champion").version) == better.promotion.version
    assert sorted(int(v.version) for v in client.search_model_versions(f"name = '{name}'")) == [1, 2, 3]
