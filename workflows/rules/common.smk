# Input functions and shared values. Validation has filled every default by now; the
# semantic checks below stop a wrong config before any job runs, naming the key at fault.
import json
import os
import shlex

from drugnet.config import DEEP_MODELS, check_config, model_hparams, model_kind, model_settings
from drugnet.models.registry import ARCHITECTURE_KEYS

check_config(config)

R = config["results"]
DATASETS = list(config["datasets"])
LIBRARIES = list(config["libraries"])
CAMPAIGNS = list(config["campaigns"])
SPLITS = ["train", "val", "test"]


wildcard_constraints:
    dataset="|".join(DATASETS) or "^$",
    model="gnn|gnn_pretrained|snn|rf_ecfp",
    deep_model="gnn|snn|gnn_depth8",
    shard="[0-9]+",


def q(values):
    """Shell-quote a list of values into one argument string."""
    return " ".join(shlex.quote(str(v)) for v in values)


def models(dataset):
    return model_settings(config, dataset)["models"]


def deep_models(dataset):
    return [m for m in models(dataset) if m in DEEP_MODELS]


def probed_models(dataset):
    """Deep models probed: the dataset's gnn/snn, plus the 8-layer residual GNN of the depth study;
    none for a dataset left out of `probe.datasets`."""
    if config["probe"]["datasets"] != "all" and dataset not in config["probe"]["datasets"]:
        return []
    depth = (
        ["gnn_depth8"]
        if config["probe"]["study"] == "depth" and "gnn" in deep_models(dataset)
        else []
    )
    return deep_models(dataset) + depth


def has_external_test(dataset):
    return "test_path" in config["datasets"][dataset]


def source(subdir):
    """The input block (dataset, its external test set, library, or the pretraining corpus) behind
    a results subfolder."""
    parts = subdir.split("/")
    if parts[0] == "pretrain":
        return config["pretrain"]["corpus"], config["pretrain"]["corpus"]["path"]
    if parts[0] == "libraries":
        return config["libraries"][parts[1]], config["libraries"][parts[1]]["path"]
    block = config["datasets"][parts[0]]
    if len(parts) == 2 and parts[1] == "external_test":
        return block, block["test_path"]
    return block, block["path"]


def source_path(wildcards):
    return source(wildcards.subdir)[1]


def standardize_args(wildcards):
    block, _ = source(wildcards.subdir)
    s = config["standardize"]
    args = [f"--smiles-column {shlex.quote(block['smiles_column'])}"]
    if "id_column" in block:
        args.append(f"--id-column {shlex.quote(block['id_column'])}")
    if block.get("targets"):
        args.append(f"--targets {q(block['targets'])} --task {block['task']}")
    if block.get("label_columns"):
        args.append(f"--label-columns {q(block['label_columns'])}")
    if s["tautomer"]:
        args.append("--tautomer")
    args.append(f"--chunk-size {s['chunk_size']} --max-heavy-atoms {s['max_heavy_atoms']}")
    return " ".join(args)


def featurize_args(wildcards):
    f = config["featurize"]
    descriptors = (
        config["pretrain"]["descriptors"] if wildcards.subdir == "pretrain" else f["descriptors"]
    )
    return f"--radius {f['ecfp_radius']} --n-bits {f['ecfp_bits']} --descriptors {descriptors}"


def feature_files(prefix):
    return [
        f"{prefix}/features/{name}"
        for name in ("graphs.pt", "ecfp.pt", "descriptors.pt", "meta.json")
    ]


def split_args(wildcards):
    ds = config["datasets"][wildcards.dataset]
    s = ds["split"]
    args = f"--method {s['method']} --sizes {q(s['sizes'])} --seed {s['seed']} --targets {q(ds['targets'])}"
    if "column" in s:
        args += f" --column {shlex.quote(s['column'])}"
    return args


PRETRAINED = f"{R}/pretrain/gnn_encoder.pt"


def pretrained_encoder(dataset, model="gnn"):
    """The encoder a dataset's GNN (`gnn` or `gnn_pretrained`) fine-tunes from (None: random
    weights): model.<model>.pretrained, or this run's `pretrain` output when that file is absent or
    pretrain.rebuild is true."""
    if model_kind(model) != "gnn":
        return None
    path = model_hparams(config, dataset, model).get("pretrained")
    if path is None:
        return None
    return PRETRAINED if config["pretrain"]["rebuild"] or not os.path.exists(path) else path


def pretrain_args(wildcards):
    """The global model.gnn architecture (what the datasets' GNNs fine-tune), then pretrain.hparams."""
    m = config["model"]
    architecture = {k: v for k, v in m["gnn"].items() if k in ARCHITECTURE_KEYS["gnn"]}
    hparams = json.dumps({**architecture, **config["pretrain"]["hparams"]}, sort_keys=True)
    return f"--hparams {shlex.quote(hparams)} --seed {m['seed']} --device {m['device']}"


if workflow.is_main_process:
    for _ds, _m in ((d, m) for d in DATASETS for m in model_settings(config, d)["models"]):
        _path = (
            model_hparams(config, _ds, _m).get("pretrained") if model_kind(_m) == "gnn" else None
        )
        if _path is not None and not os.path.exists(_path) and not config["pretrain"]["rebuild"]:
            logger.warning(
                f"model.{_m}.pretrained: {_path} not found (dataset {_ds}); this run pretrains an "
                f"encoder into {PRETRAINED} from pretrain.corpus (docs/models.md#pretrained-graph-encoder)"
            )


def dataset_inputs(wildcards):
    d = f"{R}/{wildcards.dataset}"
    return [f"{d}/standardized.csv", f"{d}/split.csv", *feature_files(d)]


def train_inputs(wildcards):
    encoder = pretrained_encoder(wildcards.dataset, wildcards.model)
    return dataset_inputs(wildcards) + ([encoder] if encoder else [])


def train_hparams(dataset, model):
    """The config's hyperparameters of ``model`` for ``dataset``, a GNN's encoder resolved."""
    hparams = model_hparams(config, dataset, model)
    if hparams.get("pretrained") is not None:
        hparams["pretrained"] = pretrained_encoder(dataset, model)
    return hparams


def train_args(wildcards):
    ds = config["datasets"][wildcards.dataset]
    m = model_settings(config, wildcards.dataset)
    hparams = json.dumps(train_hparams(wildcards.dataset, wildcards.model), sort_keys=True)
    return (
        f"--model {model_kind(wildcards.model)} --task {ds['task']} --targets {q(ds['targets'])} --hparams {shlex.quote(hparams)} "
        f"--ensemble {m['ensemble']} --seed {m['seed']} --device {m['device']} "
        f"{'--refit' if m['refit'] else '--no-refit'}"
    )


def member_models(dataset):
    """The trained models a dataset's consensus combines: every other entry of model.models."""
    return [m for m in models(dataset) if m != "consensus"]


def consensus_inputs(wildcards):
    d = f"{R}/{wildcards.dataset}"
    return dataset_inputs(wildcards) + [
        f"{d}/models/{m}/model.json" for m in member_models(wildcards.dataset)
    ]


def consensus_args(wildcards):
    m = model_settings(config, wildcards.dataset)
    return f"--models {q(member_models(wildcards.dataset))} --method {m['consensus']['method']}"


def evaluate_inputs(wildcards):
    d = f"{R}/{wildcards.dataset}"
    inputs = dataset_inputs(wildcards) + [
        f"{d}/models/{m}/model.json" for m in models(wildcards.dataset)
    ]
    if has_external_test(wildcards.dataset):
        inputs += [f"{d}/external_test/standardized.csv", *feature_files(f"{d}/external_test")]
    return inputs


def prediction_files(dataset):
    splits = SPLITS + (["external_test"] if has_external_test(dataset) else [])
    return [f"{R}/{dataset}/predictions/{m}_{s}.csv" for m in models(dataset) for s in splits]


PROBE_TABLES = [
    "probes.csv",
    "neurons.csv",
    "hierarchy.json",
    "skipped_concepts.csv",
    "neuron_examples.json",
    "family_selectivity.csv",
    "receptive_field.csv",
    "ablation.csv",
]


def report_inputs():
    """Everything the run produces; the HTML report summarizes it."""
    out = []
    for ds in DATASETS:
        out.append(f"{R}/{ds}/metrics.json")
        out += [
            f"{R}/{ds}/probes/{m}/{name}"
            for m in probed_models(ds)
            for name in ("hierarchy.json", "neuron_examples.json")
        ]
    for lib in LIBRARIES:
        out.append(f"{R}/libraries/{lib}/standardized.csv")
    for campaign in CAMPAIGNS:
        out += [
            f"{R}/screens/{campaign}/{name}"
            for name in ("ranked.csv", "top.csv", "top.sdf", "enrichment.json")
        ]
    return out


def final_outputs():
    return report_inputs() + [f"{R}/report.html"]


def probe_args(wildcards):
    p = config["probe"]
    return (
        f"--max-molecules {p['max_molecules']} --atoms-per-molecule {p['atoms_per_molecule']} "
        f"--min-positives {p['min_positives']} --n-boot {p['n_boot']} --seed {p['seed']} "
        f"--members {p['members']} --matched-layer {p['matched_layer']} "
        f"--{'' if p['ablation'] else 'no-'}ablation --ablation-k {p['ablation_k']} --ablation-draws {p['ablation_draws']}"
    )


DEPTH_STUDY = {"depth": 8, "residual": True}  # probe.study: depth (docs/probing.md)


# Scheduling hints for 1-thread jobs on few cores (docs/running.md#threads): data preparation first
# (short, and a job's priority does not pass to the jobs it unlocks), then the longest training first
# (list scheduling: on Tox21 the gnn ensemble trains longest, then the forests, then the snn:
# docs/benchmarks.md); a probe right after its model, as it follows it on the critical path.
PREP_PRIORITY = 10
TRAIN_PRIORITY = {"gnn": 2, "gnn_pretrained": 2, "rf_ecfp": 1, "snn": 0}
PROBE_PRIORITY = 3


def train_priority(wildcards):
    return TRAIN_PRIORITY.get(wildcards.model, 0)


def train_depth_args(wildcards):
    """`train_args` of the dataset's gnn with the depth-study architecture on top; no refit (the
    model only serves probing, which probes the selection fit)."""
    ds = config["datasets"][wildcards.dataset]
    m = model_settings(config, wildcards.dataset)
    # the encoder has the default depth: the 8-layer study trains from random weights
    hparams = json.dumps({**m.get("gnn", {}), **DEPTH_STUDY, "pretrained": None}, sort_keys=True)
    return (
        f"--task {ds['task']} --targets {q(ds['targets'])} --hparams {shlex.quote(hparams)} "
        f"--ensemble {m.get('ensemble', 3)} --seed {m.get('seed', 0)} --device {m.get('device', 'auto')} "
        "--no-refit"
    )


def campaign(wildcards):
    return config["campaigns"][wildcards.campaign]


def objective_datasets(wildcards):
    """The datasets of the campaign's model objectives, in order, each once (a property objective
    is computed from the structure and needs no model)."""
    objectives = campaign(wildcards)["objectives"]
    return list(dict.fromkeys(o["dataset"] for o in objectives if "property" not in o))


def screen_model_inputs(wildcards):
    """Files every objective's model needs: the dataset's standardized data, split and model dirs."""
    wanted = campaign(wildcards)["model"]
    inputs = {}
    for ds in objective_datasets(wildcards):
        names = models(ds) if wanted == "best" else [wanted]
        inputs[f"{ds}_data"] = [f"{R}/{ds}/standardized.csv", f"{R}/{ds}/split.csv"]
        inputs[f"{ds}_models"] = [f"{R}/{ds}/models/{m}/model.json" for m in names]
    return inputs


def best_of(wildcards):
    """`--best-of` options: `model: best` chooses among each objective dataset's `model.models`
    only (never a study model such as `gnn_depth8`), the models `screen_model_inputs` waits for."""
    if campaign(wildcards)["model"] != "best":
        return ""
    return q(f"--best-of={ds}={','.join(models(ds))}" for ds in objective_datasets(wildcards))


def screen_shards(wildcards):
    n = campaign(wildcards)["shards"]
    return [f"{R}/screens/{wildcards.campaign}/shards/{i}.csv" for i in range(n)]
