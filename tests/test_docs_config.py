"""docs/config.md documents every key of the config schema."""

from __future__ import annotations

from pathlib import Path

from drugnet.config import load_schema

REPO = Path(__file__).resolve().parents[1]


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
    missing = [p for p in paths if f"`{p}`" not in text and not p.startswith("datasets.<name>.model.")]
    assert not missing, f"keys missing from docs/config.md: {missing}"
