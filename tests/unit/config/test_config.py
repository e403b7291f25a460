"""Config validation: schema defaults, and errors that name the key and the expected value."""

from __future__ import annotations

import pytest
import yaml

from drugnet.config import (
    ConfigError,
    check_config,
    load_config,
    model_hparams,
    model_kind,
    model_settings,
    validate_config,
)
from helpers.paths import REPO


@pytest.fixture
def config(monkeypatch) -> dict:
    monkeypatch.chdir(REPO)
    return load_config(REPO / "config" / "config.yaml")


def _fails(config: dict, *fragments: str, files: bool = True) -> str:
    with pytest.raises(ConfigError) as info:
        check_config(validate_config(config), check_files=files)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return str(info.value)


def test_default_config_is_valid_and_gets_defaults(config):
    check_config(config)
    assert config["standardize"]["tautomer"] is False
    assert config["datasets"]["bace"]["split"]["method"] == "scaffold"
    assert config["datasets"]["bace"]["smiles_column"] == "mol"
    assert config["libraries"]["drugcentral"]["label_columns"] == []


def test_unknown_key_is_named(config):
    config["datasets"]["bace"]["smiles_colum"] = "mol"
    _fails(config, "datasets.bace", "smiles_colum", "allowed keys")


def test_wrong_enum_names_key_and_choices(config):
    config["datasets"]["tox21"]["split"]["method"] = "scafold"
    _fails(config, "datasets.tox21.split.method", "'scafold'", "scaffold")


def test_wrong_type_names_key(config):
    config["standardize"]["chunk_size"] = "big"
    _fails(config, "standardize.chunk_size", "integer")


def test_missing_required_key(config):
    del config["datasets"]["bace"]["task"]
    _fails(config, "datasets.bace", "'task' is a required property")


def test_missing_file(config):
    config["datasets"]["bace"]["path"] = "data/nope.csv"
    _fails(config, "datasets.bace.path", "does not exist")


def test_missing_column_lists_columns(config):
    config["datasets"]["bace"]["smiles_column"] = "smiles"
    _fails(config, "datasets.bace.smiles_column", "'smiles' not found", "'mol'")


def test_target_not_in_dataset(config):
    config["datasets"]["bace"]["targets"] = ["Class", "pIC50"]
    _fails(config, "datasets.bace.targets[1]", "'pIC50'")


def test_split_sizes_must_sum_to_one(config):
    config["datasets"]["bace"]["split"]["sizes"] = [0.8, 0.2, 0.2]
    _fails(config, "datasets.bace.split.sizes", "sum to 1")


def test_column_split_needs_column(config):
    config["datasets"]["bace"]["split"] = {"method": "column"}
    _fails(config, "datasets.bace.split.column")


def test_all_labels_missing(tmp_path, config):
    path = tmp_path / "unlabelled.csv"
    path.write_text("smiles,y\nCCO,\nc1ccccc1,\n")
    config["datasets"]["bace"] = {"path": str(path), "task": "classification", "targets": ["y"]}
    _fails(config, "datasets.bace.targets", "every label")


def test_campaign_objective_errors(config):
    config["campaigns"] = {
        "c": {
            "library": "drugcentral",
            "objectives": [
                {"dataset": "bace", "target": "Class"},
                {"dataset": "herg", "target": "all"},
                {"dataset": "tox21", "target": "NR-XX"},
            ],
        }
    }
    message = _fails(
        config,
        "campaigns.c.objectives[1].dataset",
        "'herg'",
        "campaigns.c.objectives[2].target",
        "'NR-XX'",
    )
    assert "objectives[0]" not in message


def test_campaign_unknown_library(config):
    config["campaigns"] = {
        "c": {"library": "zinc", "objectives": [{"dataset": "bace", "target": "Class"}]}
    }
    _fails(config, "campaigns.c.library", "'zinc'", files=False)


def test_probe_datasets_must_be_configured(config):
    assert config["probe"]["datasets"] == ["tox21"]  # the default run's choice
    assert validate_config({**config, "probe": {}})["probe"]["datasets"] == "all"  # schema default
    config["probe"]["datasets"] = ["tox21", "esol"]
    _fails(config, "probe.datasets", "'esol'", "'bace'", files=False)
    config["probe"]["datasets"] = "some"
    _fails(config, "probe.datasets", files=False)


def test_campaign_defaults(config):
    config["campaigns"] = {
        "c": {"library": "drugcentral", "objectives": [{"dataset": "bace", "target": "Class"}]}
    }
    config = validate_config(config)
    campaign = config["campaigns"]["c"]
    assert campaign["model"] == "best" and campaign["shards"] == 1 and campaign["top_n"] == 100
    assert campaign["objectives"][0] == {
        "dataset": "bace",
        "target": "Class",
        "direction": "maximize",
        "weight": 1.0,
    }
    assert campaign["filters"]["max_per_cluster"] == 3


def test_dataset_model_override_merges_over_global(config):
    config["model"]["gnn"] = {"hidden": 128, "depth": 5}
    config["datasets"]["bace"]["model"] = {"ensemble": 5, "gnn": {"depth": 3}}
    config = validate_config(config)
    merged = model_settings(config, "bace")
    assert merged["ensemble"] == 5 and merged["gnn"] == {"hidden": 128, "depth": 3}
    assert model_settings(config, "tox21")["ensemble"] == 3


def test_quick_config_is_valid(monkeypatch):
    monkeypatch.chdir(REPO)
    quick = REPO / "config" / "quick.yaml"
    base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    from drugnet.config import deep_merge

    check_config(validate_config(deep_merge(base, yaml.safe_load(quick.read_text()))))


def test_large_screen_config_is_valid_and_reads_what_the_builder_writes():
    """config/large.yaml (the README's 1.58M recipe) validates over config.yaml and screens the
    file benchmarks/large_library.py writes by default (not shipped, so not checked to exist)."""
    from drugnet.config import deep_merge

    base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    large = yaml.safe_load((REPO / "config" / "large.yaml").read_text())
    merged = validate_config(deep_merge(base, large))
    campaign = merged["campaigns"]["moses_bace"]
    assert merged["libraries"][campaign["library"]]["path"] == "benchmarks/out/moses_train.csv.gz"
    builder = (REPO / "benchmarks" / "large_library.py").read_text()
    assert 'default=Path("benchmarks/out/moses_train.csv.gz")' in builder


def test_default_run_builds_and_refits_a_consensus(config):
    settings = model_settings(config, "tox21")
    assert settings["models"][-1] == "consensus" and settings.get("refit", True) is True


def test_consensus_needs_another_model(config):
    config["model"]["models"] = ["consensus"]
    _fails(config, "model.models", "consensus combines the other models")


def test_consensus_method_is_checked(config):
    config["model"]["consensus"] = {"method": "median"}
    _fails(config, "model.consensus.method", "'median'", "stacking")
    config["model"]["consensus"] = {"method": "rank_mean"}
    config["datasets"]["bace"]["task"] = "regression"
    _fails(config, "model.consensus.method (dataset bace)", "rank_mean is for classification")


def test_refit_must_be_a_boolean(config):
    config["model"]["refit"] = "yes"
    _fails(config, "model.refit", "boolean")


def test_campaign_ranking_threshold_and_property_objectives(config):
    camp = validate_config(config)["campaigns"]["bace_safe"]
    assert camp["ranking"] == "expected" and camp["in_domain_threshold"] == "auto"
    assert any(o.get("property") == "mw" and o["window"] == [200, 500] for o in camp["objectives"])
    bad = {
        **config,
        "campaigns": {"c": {**config["campaigns"]["bace_safe"], "in_domain_threshold": "high"}},
    }
    with pytest.raises(
        ConfigError,
        match=(
            r"campaigns\.c\.in_domain_threshold: got 'high', "
            r"expected a number in \[0, 1\] or 'auto'"
        ),
    ):
        validate_config(bad)
    mixed = {
        **config,
        "campaigns": {
            "c": {
                **config["campaigns"]["bace_safe"],
                "objectives": [
                    {"dataset": "bace", "target": "Class", "property": "mw", "window": [1, 2]}
                ],
            }
        },
    }
    with pytest.raises(
        ConfigError, match=r"campaigns\.c\.objectives\[0\].*either a model objective .* not both"
    ):
        validate_config(mixed)
    reversed_window = {
        **config,
        "campaigns": {
            "c": {
                **config["campaigns"]["bace_safe"],
                "objectives": [{"property": "mw", "window": [500, 200]}],
            }
        },
    }
    with pytest.raises(
        ConfigError, match=r"campaigns\.c\.objectives\[0\]\.window: expected lo <= hi"
    ):
        check_config(validate_config(reversed_window), check_files=False)


def test_pretrain_defaults_and_errors(config):
    pretrain = config["pretrain"]
    assert pretrain["corpus"] == {
        "path": "data/pretrain_corpus.csv.gz",
        "smiles_column": "smiles",
        "id_column": "id",
    }
    assert pretrain["descriptors"] == "all" and pretrain["rebuild"] is False
    assert pretrain["hparams"] == {"epochs": 12, "patience": 3, "warmup_epochs": 1}
    config["model"]["gnn"] = {"pretrained": "data/pretrained/gnn_encoder.ckpt"}
    _fails(config, "model.gnn.pretrained", ".pt")
    config["model"]["gnn"] = {}
    config["pretrain"] = {"rebuild": "yes"}
    _fails(config, "pretrain.rebuild", "boolean")
    config["pretrain"] = {}
    config["datasets"]["pretrain"] = config["datasets"]["bace"]
    _fails(config, "datasets.pretrain", "the encoder's results folder")


def test_gnn_pretrained_is_tox21s_second_gnn_with_the_gnn_settings_and_the_encoder(config):
    assert model_settings(config, "tox21")["models"] == [
        "gnn",
        "gnn_pretrained",
        "snn",
        "rf_ecfp",
        "consensus",
    ]
    assert "gnn_pretrained" not in model_settings(config, "bace")["models"]
    assert model_kind("gnn_pretrained") == "gnn" and model_kind("snn") == "snn"
    encoder = {"pretrained": "data/pretrained/gnn_encoder.pt"}
    assert model_hparams(config, "tox21", "gnn_pretrained") == encoder
    assert model_hparams(config, "tox21", "gnn") == {}
    # the architecture comes from model.gnn, its own block goes on top, the encoder stays default
    config["model"]["gnn"] = {"dropout": 0.2}
    config["model"]["gnn_pretrained"] = {"lr": 3e-4}
    assert model_hparams(config, "tox21", "gnn_pretrained") == {
        "dropout": 0.2,
        "lr": 3e-4,
        **encoder,
    }
    config["model"]["gnn_pretrained"] = {"pretrained": None}
    _fails(config, "model.gnn_pretrained.pretrained (dataset tox21)", "expected a .pt path")
    config["model"]["gnn_pretrained"] = {"pretrained": "encoder.ckpt"}
    _fails(config, "model.gnn_pretrained.pretrained", ".pt")
    config["model"]["gnn_pretrained"] = {}
    config["datasets"]["bace"]["model"] = {"models": ["gnn_depth8"]}
    _fails(config, "datasets.bace.model.models[0]", "gnn_pretrained")
