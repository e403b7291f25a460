"""Workflow configuration: schema validation with defaults, then semantic checks that fail fast.

The schema (``drugnet/config/schema.yaml``) is the contract for keys, types and
defaults; :func:`check_config` adds what a schema cannot say (files exist, columns exist in
the file header, targets have labels, campaign objectives name known datasets and targets)
so a wrong config stops in seconds, before any heavy step, with a message that names the key
and what was expected.
"""

from __future__ import annotations

import copy
import csv
import functools
import gzip
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.yaml"
MODEL_KINDS = ("gnn", "snn", "rf_ecfp")
#: Trainable entries of ``model.models``: the kinds, plus ``gnn_pretrained``, a second GNN of the
#: same architecture fine-tuned from the pretrained encoder (hyperparameters: ``model.gnn`` merged
#: with ``model.gnn_pretrained``), so that a consensus can combine both initialisations.
MODEL_NAMES = ("gnn", "gnn_pretrained", "snn", "rf_ecfp")
#: Models whose layers are probed (``probe.datasets``).
DEEP_MODELS = ("gnn", "snn")


def model_kind(name: str) -> str:
    """The model kind (``drugnet train --model``) behind an entry of ``model.models``."""
    return "gnn" if name == "gnn_pretrained" else name


class ConfigError(ValueError):
    """A configuration problem; the message names the key and what was expected."""


def load_schema(path: Path | str = SCHEMA_PATH) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh)


@functools.cache
def _schema() -> dict:
    return load_schema()


def _resolve(node: dict, schema: dict) -> dict:
    """``node`` with a local ``$ref`` merged under its own keys (own keys win, as on the global
    ``model``)."""
    ref = node.get("$ref")
    if not ref:
        return node
    target = schema
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**_resolve(target, schema), **{k: v for k, v in node.items() if k != "$ref"}}


def schema_default(key: str) -> Any:
    """The schema's default of a dotted config key (``*`` for a named entry:
    ``datasets.*.split.seed``).

    Command-line options and library settings that mirror a config key take their default from
    here, so the schema stays the only place a default is written.
    """
    schema = _schema()
    node = _resolve(schema, schema)
    for part in key.split("."):
        if part == "*":
            node = _resolve(node["additionalProperties"], schema)
            continue
        own = node.get("properties", {}).get(part)
        if own is None:
            raise KeyError(f"config key {key}: no {part!r} in the schema")
        node = _resolve(own, schema)
    if "default" not in node:
        raise KeyError(f"config key {key}: the schema gives no default")
    return copy.deepcopy(node["default"])


def _key_path(parts: Iterator[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    key = _key_path(error.absolute_path)
    validator, expected = error.validator, error.validator_value
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"config key {key}: unknown key(s) {extra}; allowed keys: {allowed}"
    if validator == "required":
        return f"config key {key}: {error.message}"
    if validator == "enum":
        return f"config key {key}: got {error.instance!r}, expected one of {expected}"
    if validator == "type":
        return f"config key {key}: got {error.instance!r}, expected type {expected}"
    if validator == "pattern" and "description" in error.schema:
        return f"config key {key}: got {error.instance!r}, expected {error.schema['description']}"
    if validator == "oneOf" and "description" in error.schema:
        return f"config key {key}: got {error.instance!r}, expected {error.schema['description']}"
    return f"config key {key}: {error.message}"


def _with_defaults(validator_class: Any) -> Any:
    """A validator that fills ``default`` values of missing properties (as Snakemake does)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def validate_config(config: Mapping, schema: dict | None = None) -> dict:
    """Validate against the schema, return a copy with defaults filled; raise ConfigError."""
    schema = schema or load_schema()
    filled: dict = copy.deepcopy(dict(config))
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ConfigError("\n".join(_describe(e) for e in errors))
    # second pass: defaults inside objects created by defaults (e.g. split under a dataset)
    validator.validate(filled)
    return filled


def load_config(path: Path | str, overrides: Mapping | None = None) -> dict:
    with open(path) as fh:
        config = yaml.safe_load(fh) or {}
    if overrides:
        config = deep_merge(config, overrides)
    return validate_config(config)


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """Recursive dict merge; values of ``override`` win, lists are replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def model_settings(config: Mapping, dataset: str) -> dict:
    """The ``model`` block for one dataset: global defaults merged with the dataset's override."""
    return deep_merge(config.get("model", {}), config["datasets"][dataset].get("model", {}))


def model_hparams(config: Mapping, dataset: str, name: str) -> dict:
    """The configured hyperparameter overrides of model ``name`` (an entry of ``model.models``)
    for ``dataset``; ``gnn_pretrained`` takes ``model.gnn`` with ``model.gnn_pretrained`` on top
    (same architecture, the encoder to fine-tune from)."""
    settings = model_settings(config, dataset)
    if name != "gnn_pretrained":
        return dict(settings.get(name, {}))
    own = settings.get("gnn_pretrained", {})
    encoder = own.get("pretrained", schema_default("model.gnn_pretrained")["pretrained"])
    return {**settings.get("gnn", {}), **own, "pretrained": encoder}


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _table_columns(path: Path) -> list[str] | None:
    """Header of a CSV/TSV file (None for SMILES/SDF files, which have no header).

    Names are stripped of surrounding whitespace, the rule the reader (``drugnet.io.readers``)
    uses too: ``smiles, id`` has a column ``id``.
    """
    name = path.name.lower().removesuffix(".gz")
    if not (name.endswith(".csv") or name.endswith(".tsv")):
        return None
    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter="\t" if name.endswith(".tsv") else ",")
        for row in reader:
            if any(cell.strip() for cell in row):
                return [c.strip() for c in row]
    return []


def _labelled_targets(path: Path, targets: list[str]) -> set[str]:
    """Targets that have at least one non-blank value in a CSV/TSV file."""
    name = path.name.lower().removesuffix(".gz")
    found: set[str] = set()
    with _open_text(path) as fh:
        reader = csv.DictReader(fh, delimiter="\t" if name.endswith(".tsv") else ",")
        reader.fieldnames = [c.strip() for c in reader.fieldnames or []]
        for row in reader:
            for t in targets:
                value = (row.get(t) or "").strip()
                if value and value.lower() not in {"nan", "na", "n/a", "none", "null"}:
                    found.add(t)
            if len(found) == len(targets):
                break
    return found


def _check_table(
    kind: str, name: str, block: Mapping, key: str, columns_needed: dict[str, str]
) -> list[str]:
    problems: list[str] = []
    path = Path(block[key])
    where = f"{kind}.{name}.{key}"
    if not path.is_file():
        return [
            f"config key {where}: file {str(path)!r} does not exist (paths are relative to "
            f"{Path.cwd()})"
        ]
    columns = _table_columns(path)
    if columns is None:
        return problems
    if not columns:
        return [f"config key {where}: file {str(path)!r} is empty"]
    for col_key, col in columns_needed.items():
        if col not in columns:
            problems.append(
                f"config key {kind}.{name}.{col_key}: column {col!r} not found in {str(path)!r}; "
                f"columns are {columns}"
            )
    return problems


def _property_objective_problems(obj: Mapping, where: str) -> list[str]:
    """A property objective's window needs at least one bound and ``lo <= hi``."""
    lo, hi = obj["window"]
    if lo is None and hi is None:
        return [
            f"config key {where}.window: expected [lo, hi] with at least one number, "
            "got [null, null]"
        ]
    if lo is not None and hi is not None and lo > hi:
        return [f"config key {where}.window: expected lo <= hi, got {list(obj['window'])}"]
    return []


def check_config(config: Mapping, check_files: bool = True) -> None:
    """Semantic checks beyond the schema; raise ConfigError listing every problem found."""
    problems: list[str] = []
    datasets = config.get("datasets", {})
    for name, ds in datasets.items():
        if name == "pretrain":
            problems.append(
                "config key datasets.pretrain: 'pretrain' names the encoder's results folder; "
                "expected another dataset name"
            )
        split = ds.get("split", {})
        sizes = split.get("sizes", [0.8, 0.1, 0.1])
        if abs(sum(sizes) - 1.0) > 1e-6:
            problems.append(f"config key datasets.{name}.split.sizes: {sizes} must sum to 1")
        if split.get("method") == "column" and "column" not in split:
            problems.append(
                f"config key datasets.{name}.split.column: required when split.method is 'column'"
            )
        needed = {"smiles_column": ds.get("smiles_column", "smiles")}
        if "id_column" in ds:
            needed["id_column"] = ds["id_column"]
        for i, t in enumerate(ds["targets"]):
            needed[f"targets[{i}]"] = t
        if split.get("method") == "column" and "column" in split:
            needed["split.column"] = split["column"]
        if check_files:
            found = _check_table("datasets", name, ds, "path", needed)
            problems += found
            if not found and _table_columns(Path(ds["path"])) is not None:
                labelled = _labelled_targets(Path(ds["path"]), list(ds["targets"]))
                if not labelled:
                    problems.append(
                        f"config key datasets.{name}.targets: every label of {ds['targets']} is "
                        f"missing in {ds['path']!r}"
                    )
            if "test_path" in ds:
                problems += _check_table("datasets", name, ds, "test_path", needed)
        models = model_settings(config, name).get("models", list(MODEL_KINDS))
        if "gnn_pretrained" in models and model_hparams(config, name, "gnn_pretrained").get(
            "pretrained"
        ) in (None, ""):
            problems.append(
                f"config key model.gnn_pretrained.pretrained (dataset {name}): gnn_pretrained "
                "fine-tunes from an encoder; expected a .pt path, got null"
            )
        if not models:
            problems.append(
                f"config key datasets.{name}.model.models: at least one model is needed"
            )
        elif "consensus" in models and len(models) < 2:
            problems.append(
                f"config key model.models (dataset {name}): consensus combines the other models; "
                f"expected at least one of {list(MODEL_NAMES)} besides it, got {models}"
            )
        method = model_settings(config, name).get("consensus", {}).get("method", "auto")
        if method == "rank_mean" and ds["task"] != "classification" and "consensus" in models:
            problems.append(
                f"config key model.consensus.method (dataset {name}): rank_mean is for "
                f"classification; expected auto, mean or stacking for a {ds['task']} dataset"
            )
    probed = config.get("probe", {}).get("datasets", "all")
    if probed != "all":
        problems += [
            f"config key probe.datasets: {name!r} is not a configured dataset (expected 'all' or "
            f"names from {sorted(datasets)})"
            for name in probed
            if name not in datasets
        ]
    for name, lib in config.get("libraries", {}).items():
        needed = {"smiles_column": lib.get("smiles_column", "smiles")}
        if "id_column" in lib:
            needed["id_column"] = lib["id_column"]
        for i, c in enumerate(lib.get("label_columns", [])):
            needed[f"label_columns[{i}]"] = c
        if check_files:
            problems += _check_table("libraries", name, lib, "path", needed)
    for name, camp in config.get("campaigns", {}).items():
        if camp["library"] not in config.get("libraries", {}):
            problems.append(
                f"config key campaigns.{name}.library: {camp['library']!r} is not a configured "
                f"library (libraries: {sorted(config.get('libraries', {}))})"
            )
        for i, obj in enumerate(camp["objectives"]):
            where = f"campaigns.{name}.objectives[{i}]"
            if "property" in obj:
                problems += _property_objective_problems(obj, where)
                continue
            ds = datasets.get(obj["dataset"])
            if ds is None:
                problems.append(
                    f"config key {where}.dataset: {obj['dataset']!r} is not a configured dataset "
                    f"(datasets: {sorted(datasets)})"
                )
                continue
            if obj["target"] != "all" and obj["target"] not in ds["targets"]:
                problems.append(
                    f"config key {where}.target: {obj['target']!r} is not a target of dataset "
                    f"{obj['dataset']!r} (expected 'all' or one of {ds['targets']})"
                )
            model = camp.get("model", "best")
            if model != "best" and model not in model_settings(config, obj["dataset"]).get(
                "models", MODEL_KINDS
            ):
                problems.append(
                    f"config key campaigns.{name}.model: {model!r} is not trained for dataset "
                    f"{obj['dataset']!r}"
                )
    if problems:
        raise ConfigError("\n".join(problems))
