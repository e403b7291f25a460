rule probe:
    """Probe every layer of a trained deep model for functional groups, interaction centers, pharmacophores."""
    input:
        dataset_inputs,
        model=f"{R}/{{dataset}}/models/{{deep_model}}/model.json",
    output:
        [f"{R}/{{dataset}}/probes/{{deep_model}}/{name}" for name in PROBE_TABLES],
        png=report(
            f"{R}/{{dataset}}/probes/{{deep_model}}/selectivity_heatmap.png",
            caption="../report/selectivity_heatmap.rst",
            category="Probe atlas",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "model": "{deep_model}"},
        ),
        svg=f"{R}/{{dataset}}/probes/{{deep_model}}/selectivity_heatmap.svg",
    log:
        f"{R}/logs/{{dataset}}/probe_{{deep_model}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/probe_{{deep_model}}.tsv"
    priority: PROBE_PRIORITY
    conda:
        "../envs/drugnet.yaml"
    threads: 1
    resources:
        mem_mb=6000,
        runtime=30,
    params:
        dataset_dir=lambda wildcards: f"{R}/{wildcards.dataset}",
        model_dir=lambda wildcards: f"{R}/{wildcards.dataset}/models/{wildcards.deep_model}",
        outdir=lambda wildcards: f"{R}/{wildcards.dataset}/probes/{wildcards.deep_model}",
        args=lambda wildcards: probe_args(wildcards),
    shell:
        "drugnet probe --dataset-dir {params.dataset_dir:q} --model-dir {params.model_dir:q} "
        "--output-dir {params.outdir:q} {params.args} --threads {threads} 2> {log:q}"


rule train_depth:
    """probe.study: depth: the dataset's gnn recipe with 8 residual message-passing layers, for probing."""
    input:
        dataset_inputs,
    output:
        f"{R}/{{dataset}}/models/gnn_depth8/model.json",
    log:
        f"{R}/logs/{{dataset}}/train_gnn_depth8.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/train_gnn_depth8.tsv"
    conda:
        "../envs/drugnet.yaml"
    threads: 1
    resources:
        mem_mb=6000,
        runtime=240,
    params:
        dataset_dir=lambda wildcards: f"{R}/{wildcards.dataset}",
        outdir=lambda wildcards: f"{R}/{wildcards.dataset}/models/gnn_depth8",
        args=train_depth_args,
    shell:
        "drugnet train --dataset-dir {params.dataset_dir:q} --model gnn "
        "--output-dir {params.outdir:q} {params.args} --threads {threads} 2> {log:q}"
