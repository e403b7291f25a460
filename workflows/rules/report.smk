rule report:
    """One standalone HTML page: data accounting, model quality, probe atlas, candidates."""
    input:
        report_inputs(),
    output:
        report(
            f"{R}/report.html",
            caption="../report/report.rst",
            category="Summary",
        ),
    log:
        f"{R}/logs/report.log",
    conda:
        "../envs/drugnet.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        config=lambda wildcards: shlex.quote(json.dumps(config, sort_keys=True)),
        results=lambda wildcards: R,
    shell:
        "drugnet report --config-json {params.config} --results-dir {params.results:q} "
        "--output {output:q} 2> {log:q}"
