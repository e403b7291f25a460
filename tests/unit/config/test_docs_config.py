"""docs/config.md documents every key of the config schema."""

from __future__ import annotations

import re

import yaml

from drugnet.config import load_schema, model_settings, validate_config
from helpers.paths import REPO


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].split("/")[-1]]
    if "allOf" in node:
        merged: dict = {}
        for part in node["allOf"]:
            merged.update(_resolve(schema, part))
        return merged
    return node


def _key_paths(schema: dict, node: dict, prefix: str) -> list[str]:
    node = _resolve(schema, node)
    paths = []
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        paths.append(path)
        paths += _key_paths(schema, sub, path)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        paths += _key_paths(schema, extra, f"{prefix}.<name>")
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        paths += _key_paths(schema, node["items"], f"{prefix}[]")
    return paths


def test_every_schema_key_is_documented():
    schema = load_schema()
    text = (REPO / "docs" / "config.md").read_text()
    paths = _key_paths(schema, schema, "")
    assert len(paths) > 40
    missing = [
        p for p in paths if f"`{p}`" not in text and not p.startswith("datasets.<name>.model.")
    ]
    assert not missing, f"keys missing from docs/config.md: {missing}"


MINIMAL = {
    "datasets": {"ds": {"path": "d.csv", "task": "classification", "targets": ["y"]}},
    "libraries": {"lib": {"path": "l.csv"}},
    "campaigns": {"camp": {"library": "lib", "objectives": [{"dataset": "ds", "target": "y"}]}},
}
NAMES = {"datasets": "ds", "libraries": "lib", "campaigns": "camp"}


def _documented_defaults(text: str) -> dict[str, object]:
    """``key -> default`` for every table row whose default is one backticked YAML value."""
    defaults = {}
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if len(cells) >= 3 and cells[0].startswith("`") and re.fullmatch(r"`[^`]+`", cells[2]):
            defaults[cells[0].strip("`")] = yaml.safe_load(cells[2].strip("`"))
    return defaults


def _lookup(config: dict, key: str) -> object:
    node: object = config
    parts = key.replace("[]", ".0").split(".")
    for i, part in enumerate(parts):
        name = NAMES[parts[i - 1]] if part == "<name>" else part
        node = node[int(name)] if name.isdigit() else node[name]  # KeyError: default not applied
    return node


def test_every_documented_default_is_applied_by_validation():
    """A config that omits every optional key gets exactly the defaults docs/config.md states."""
    config = validate_config(MINIMAL)
    documented = _documented_defaults((REPO / "docs" / "config.md").read_text())
    assert len(documented) > 30
    omitted = {
        key: value
        for key, value in documented.items()
        if key.split(".")[0] not in MINIMAL or "." in key
    }
    wrong = {
        key: (value, _lookup(config, key))
        for key, value in omitted.items()
        if _lookup(config, key) != value
    }
    assert not wrong, f"documented default != applied default: {wrong}"


def test_a_dataset_block_with_only_path_task_targets_gets_split_and_model_settings():
    config = validate_config(MINIMAL)
    assert config["datasets"]["ds"]["split"] == {
        "method": "scaffold",
        "sizes": [0.8, 0.1, 0.1],
        "seed": 0,
    }
    assert model_settings(config, "ds") == {
        "models": ["gnn", "snn", "rf_ecfp"],
        "ensemble": 3,
        "seed": 0,
        "device": "auto",
        "gnn": {},
        "gnn_pretrained": {"pretrained": "data/pretrained/gnn_encoder.pt"},
        "snn": {},
        "rf_ecfp": {},
        "refit": True,
        "consensus": {"method": "auto"},
    }
