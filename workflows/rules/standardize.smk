rule standardize:
    """Standardize a dataset, its external test set or a library; merge duplicates; record rejects."""
    input:
        source_path,
    output:
        standardized=f"{R}/{{subdir}}/standardized.csv",
        rejects=f"{R}/{{subdir}}/rejects.csv",
        summary=f"{R}/{{subdir}}/standardize_summary.json",
    log:
        f"{R}/logs/{{subdir}}/standardize.log",
    benchmark:
        f"{R}/benchmarks/{{subdir}}/standardize.tsv"
    priority: PREP_PRIORITY
    conda:
        "../envs/drugnet.yaml"
    threads: 1  # all jobs declare 1 (docs/running.md#threads); --set-threads standardize=N for big libraries
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        args=standardize_args,
    shell:
        "drugnet standardize {input:q} --output {output.standardized:q} --rejects {output.rejects:q} "
        "--summary {output.summary:q} {params.args} --threads {threads} 2> {log:q}"


rule split:
    """Assign every standardized structure of a dataset to train, val or test."""
    input:
        f"{R}/{{dataset}}/standardized.csv",
    output:
        f"{R}/{{dataset}}/split.csv",
    log:
        f"{R}/logs/{{dataset}}/split.log",
    priority: PREP_PRIORITY
    conda:
        "../envs/drugnet.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        args=split_args,
    shell:
        "drugnet split --input {input:q} --output {output:q} {params.args} 2> {log:q}"
