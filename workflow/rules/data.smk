# Inputs that are not shipped: downloaded once, verified, shared by every run that needs them.


rule download_rlla_4k_train:
    """RLLA-4K train split (3,920 rows, paper tool-calling runs); its git blob id is checked."""
    output:
        DATASETS["rlla_4k_train"],
    log:
        "logs/data/rlla_4k_train.log",
    benchmark:
        "benchmarks/data/rlla_4k_train.tsv"
    conda:
        "../envs/gd2po.yaml"
    shell:
        "python -m gd2po.tasks.tool_calling.download --out {output} > {log} 2>&1"


rule prepare_model:
    """A tiny local model warm-started on a mini task: the starting policy of every run of a setting."""
    output:
        directory(MODEL_DIR),
    params:
        flags=prepare_flags,
    log:
        "logs/prepare/{suite}/{setting}.log",
    benchmark:
        "benchmarks/prepare/{suite}/{setting}.tsv"
    threads: 1
    conda:
        "../envs/gd2po.yaml"
    shell:
        "python -m gd2po prepare {params.flags} --out {output} > {log} 2>&1"
