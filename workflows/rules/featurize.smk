rule featurize:
    """Cache graphs, ECFP counts and RDKit descriptors of standardized structures."""
    input:
        f"{R}/{{subdir}}/standardized.csv",
    output:
        feature_files(f"{R}/{{subdir}}"),
    log:
        f"{R}/logs/{{subdir}}/featurize.log",
    benchmark:
        f"{R}/benchmarks/{{subdir}}/featurize.tsv"
    priority: PREP_PRIORITY
    conda:
        "../envs/drugnet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        outdir=lambda wildcards: f"{R}/{wildcards.subdir}/features",
        args=featurize_args,
    shell:
        "drugnet featurize --input {input:q} --output-dir {params.outdir:q} {params.args} "
        "--threads {threads} 2> {log:q}"
