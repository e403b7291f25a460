rule pretrain:
    """Pretrain the GNN encoder self-supervised on the unlabelled corpus (predict its RDKit descriptors)."""
    input:
        f"{R}/pretrain/standardized.csv",
        feature_files(f"{R}/pretrain"),
    output:
        encoder=PRETRAINED,
        history=f"{R}/pretrain/history.csv",
    log:
        f"{R}/logs/pretrain/pretrain.log",
    benchmark:
        f"{R}/benchmarks/pretrain/pretrain.tsv"
    conda:
        "../envs/drugnet.yaml"
    threads: 1  # all jobs declare 1 (docs/running.md#threads); --set-threads pretrain=N to rebuild faster
    resources:
        mem_mb=6000,
        runtime=240,
    params:
        corpus=lambda wildcards, input: os.path.dirname(input[0]),
        args=pretrain_args,
    shell:
        "drugnet pretrain --corpus-dir {params.corpus:q} --output {output.encoder:q} "
        "--history {output.history:q} {params.args} --threads {threads} 2> {log:q}"
