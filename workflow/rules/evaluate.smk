# Held-out evaluation of each run's final model: RUN_DIR/eval.json.


rule evaluate:
    input:
        f"{RUN_DIR}/summary.json",
    output:
        f"{RUN_DIR}/eval.json",
    params:
        run_dir=run_dir_of,
        flags=evaluate_flags,
    log:
        "logs/evaluate/{suite}/{setting}/{variant}/seed{seed}.log",
    benchmark:
        "benchmarks/evaluate/{suite}/{setting}/{variant}/seed{seed}.tsv"
    threads: job_threads
    resources:
        gpu=job_gpus,
    conda:
        "../envs/gd2po.yaml"
    shell:
        "python -m gd2po evaluate --run {params.run_dir} {params.flags} > {log} 2>&1"
