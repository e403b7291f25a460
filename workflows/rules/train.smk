rule train:
    """Train an ensemble of one model (model.models entry) on the training split, selecting on validation; refit on all labels."""
    input:
        train_inputs,
    output:
        f"{R}/{{dataset}}/models/{{model}}/model.json",
    log:
        f"{R}/logs/{{dataset}}/train_{{model}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/train_{{model}}.tsv"
    priority: train_priority
    conda:
        "../envs/drugnet.yaml"
    threads: 1  # one-thread jobs pack two at a time on 2 cores (docs/running.md#threads)
    resources:
        mem_mb=6000,
        runtime=120,
    params:
        dataset_dir=lambda wildcards: f"{R}/{wildcards.dataset}",
        outdir=lambda wildcards: f"{R}/{wildcards.dataset}/models/{wildcards.model}",
        args=train_args,
    shell:
        "drugnet train --dataset-dir {params.dataset_dir:q} --output-dir {params.outdir:q} "
        "{params.args} --threads {threads} 2> {log:q}"


rule consensus:
    """Combine the dataset's trained models per task, fitted on their validation predictions only."""
    input:
        consensus_inputs,
    output:
        f"{R}/{{dataset}}/models/consensus/model.json",
    log:
        f"{R}/logs/{{dataset}}/consensus.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/consensus.tsv"
    conda:
        "../envs/drugnet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        dataset_dir=lambda wildcards: f"{R}/{wildcards.dataset}",
        outdir=lambda wildcards: f"{R}/{wildcards.dataset}/models/consensus",
        args=consensus_args,
    shell:
        "drugnet consensus --dataset-dir {params.dataset_dir:q} --output-dir {params.outdir:q} {params.args} "
        "--threads {threads} 2> {log:q}"


rule evaluate:
    """Predict every split with every model; write metrics.json and prediction CSVs."""
    input:
        evaluate_inputs,
    output:
        metrics=f"{R}/{{dataset}}/metrics.json",
        predictions=directory(f"{R}/{{dataset}}/predictions"),
    log:
        f"{R}/logs/{{dataset}}/evaluate.log",
    conda:
        "../envs/drugnet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        dataset_dir=lambda wildcards: f"{R}/{wildcards.dataset}",
        models=lambda wildcards: " ".join(models(wildcards.dataset)),
    shell:
        "drugnet evaluate --dataset-dir {params.dataset_dir:q} --models {params.models} "
        "--output {output.metrics:q} --threads {threads} 2> {log:q}"
