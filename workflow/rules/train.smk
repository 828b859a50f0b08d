# One training run per (suite, setting, variant, seed). Only summary.json (written last) is declared:
# model/ and metrics.jsonl sit beside it, and checkpoints/ stays undeclared so that a failed job
# keeps it and a rerun (or --retries) resumes from the last checkpoint.


rule train:
    input:
        unpack(train_inputs),
    output:
        f"{RUN_DIR}/summary.json",
    params:
        run_dir=run_dir_of,
        launch=launcher,
        sets=train_set_flags,
    log:
        "logs/train/{suite}/{setting}/{variant}/seed{seed}.log",
    benchmark:
        "benchmarks/train/{suite}/{setting}/{variant}/seed{seed}.tsv"
    threads: job_threads
    resources:
        gpu=job_gpus,
    conda:
        "../envs/gd2po.yaml"
    shell:
        "{params.launch} -m gd2po train --config {input.run_config} --out {params.run_dir} {params.sets} > {log} 2>&1"
