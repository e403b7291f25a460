"""Tolerant readers and name resolution of the report."""

from __future__ import annotations

import json

from drugnet.report.inputs import (
    datasets,
    model_names,
    parse_config,
    read_csv,
    read_json,
)


def test_parse_config_from_json_text_json_file_and_yaml_file(tmp_path):
    config = {"results": "out", "datasets": {"a": {"task": "regression", "targets": ["y"]}}}
    assert parse_config(json.dumps(config)) == config
    (tmp_path / "c.json").write_text(json.dumps(config))
    (tmp_path / "c.yaml").write_text(
        "results: out\ndatasets:\n  a: {task: regression, targets: [y]}\n"
    )
    assert (
        parse_config(str(tmp_path / "c.json")) == config == parse_config(str(tmp_path / "c.yaml"))
    )


def test_readers_return_none_for_missing_or_broken_files(tmp_path):
    (tmp_path / "bad.json").write_text("{nope")
    assert read_json(tmp_path / "bad.json") is None and read_json(tmp_path / "absent.json") is None
    assert read_csv(tmp_path / "absent.csv") is None
    (tmp_path / "ids.csv").write_text("id,smiles,x\n007,CCO,1\n")
    frame = read_csv(tmp_path / "ids.csv")
    assert frame.loc[0, "id"] == "007" and frame.loc[0, "x"] == 1  # identifiers stay text


def test_model_names_configured_first_then_found_once():
    config = {
        "model": {"models": ["snn", "gnn"]},
        "datasets": {"a": {}, "b": {"model": {"models": ["rf_ecfp"]}}},
    }
    assert model_names(config, "a", ["gnn", "rf_ecfp", "custom", "rf_ecfp"]) == [
        "snn",
        "gnn",
        "rf_ecfp",
        "custom",
    ]
    assert model_names(config, "b", ["gnn"]) == ["rf_ecfp", "gnn"]
    assert model_names({}, "a", ["snn", "gnn", "gnn"]) == ["gnn", "snn"]


def test_datasets_are_discovered_without_a_config(tmp_path):
    for name in ("tox", "libraries", "logs"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "standardized.csv").write_text("id,smiles\n")
    (tmp_path / "empty").mkdir()
    assert list(datasets({}, tmp_path)) == ["tox"]
    assert list(datasets({"datasets": {"x": {}}}, tmp_path)) == ["x"]
