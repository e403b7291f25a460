# A library is scored in `shards` pieces, each its own job (wildcard {shard}; the count is set per
# campaign, which Snakemake's global `scattergather` directive cannot express), then merged and ranked.
# Both steps stream (docs/screening.md): a score job holds one run of rows, writes its shard sorted in
# rank order; the rank job k-way merges the shards and holds only the annotated top rows.


rule screen_score:
    """Predict one shard of a library for a campaign: score, objectives, uncertainty, applicability
    domain; the shard is written sorted in rank order."""
    input:
        unpack(screen_model_inputs),
        library=lambda wildcards: f"{R}/libraries/{campaign(wildcards)['library']}/standardized.csv",
    output:
        f"{R}/screens/{{campaign}}/shards/{{shard}}.csv",
    log:
        f"{R}/logs/screens/{{campaign}}/score_{{shard}}.log",
    benchmark:
        f"{R}/benchmarks/screens/{{campaign}}/score_{{shard}}.tsv"
    conda:
        "../envs/drugnet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        results=lambda wildcards: R,
        campaign=lambda wildcards: shlex.quote(json.dumps(campaign(wildcards), sort_keys=True)),
        n_shards=lambda wildcards: campaign(wildcards)["shards"],
        threshold=lambda wildcards: campaign(wildcards)["in_domain_threshold"],
        best_of=best_of,
    shell:
        "drugnet screen score --campaign-json {params.campaign} --library {input.library:q} "
        "--results-dir {params.results:q} {params.best_of} --shard {wildcards.shard} --n-shards {params.n_shards} "
        "--ad-threshold {params.threshold} --output {output:q} --threads {threads} 2> {log:q}"


rule screen_rank:
    """Merge the sorted shards in rank order, annotate the best, write the candidate lists (the
    library is read only for enrichment labels)."""
    input:
        unpack(screen_model_inputs),
        shards=screen_shards,
        library=lambda wildcards: f"{R}/libraries/{campaign(wildcards)['library']}/standardized.csv",
    output:
        ranked=f"{R}/screens/{{campaign}}/ranked.csv",
        top=f"{R}/screens/{{campaign}}/top.csv",
        sdf=f"{R}/screens/{{campaign}}/top.sdf",
        enrichment=f"{R}/screens/{{campaign}}/enrichment.json",
    log:
        f"{R}/logs/screens/{{campaign}}/rank.log",
    benchmark:
        f"{R}/benchmarks/screens/{{campaign}}/rank.tsv"
    conda:
        "../envs/drugnet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        results=lambda wildcards: R,
        campaign=lambda wildcards: shlex.quote(json.dumps(campaign(wildcards), sort_keys=True)),
        outdir=lambda wildcards: f"{R}/screens/{wildcards.campaign}",
        best_of=best_of,
    shell:
        "drugnet screen rank --campaign-json {params.campaign} --library {input.library:q} "
        "--results-dir {params.results:q} {params.best_of} --inputs {input.shards:q} --output-dir {params.outdir:q} "
        "--threads {threads} 2> {log:q}"
