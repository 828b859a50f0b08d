# Tables and figures from the run dirs (python -m gd2po report ...), wrapped for `snakemake --report`.


rule table:
    """Methods x held-out metrics, mean ± 95% CI over seeds, published numbers beside ours where they apply."""
    input:
        table_inputs,
    output:
        csv=report(
            "results/tables/{suite}/{setting}.csv",
            caption="../report/table.rst",
            category="Comparison tables",
            subcategory="{suite}",
            labels={"suite": "{suite}", "setting": "{setting}", "file": "table (CSV)"},
        ),
        md="results/tables/{suite}/{setting}.md",
        tex="results/tables/{suite}/{setting}.tex",
    params:
        flags=table_flags,
        out=output_prefix,
        title=lambda wildcards: f"{wildcards.suite} / {wildcards.setting}",
    log:
        "logs/report/table/{suite}/{setting}.log",
    benchmark:
        "benchmarks/report/table/{suite}/{setting}.tsv"
    conda:
        "../envs/gd2po.yaml"
    shell:
        "python -m gd2po report table {params.flags} --title {params.title:q} --out {params.out} > {log} 2>&1"


rule ablation_table:
    """One ablation's variants x held-out metrics, mean ± 95% CI over the ablation's seeds."""
    input:
        ablation_inputs,
    output:
        csv=report(
            "results/tables/ablations/{ablation}.csv",
            caption="../report/ablation_table.rst",
            category="Ablations",
            subcategory="{ablation}",
            labels={"ablation": "{ablation}", "file": "table (CSV)"},
        ),
        md="results/tables/ablations/{ablation}.md",
        tex="results/tables/ablations/{ablation}.tex",
    params:
        flags=ablation_table_flags,
        out=output_prefix,
        title=lambda wildcards: config["ablations"][wildcards.ablation].get("title", wildcards.ablation),
    log:
        "logs/report/ablation_table/{ablation}.log",
    benchmark:
        "benchmarks/report/ablation_table/{ablation}.tsv"
    conda:
        "../envs/gd2po.yaml"
    shell:
        "python -m gd2po report table {params.flags} --title {params.title:q} --out {params.out} > {log} 2>&1"


rule plot_curves:
    """Training reward per reward dimension over steps, one line per method, seed band = min..max."""
    input:
        curve_inputs,
    output:
        png=report(
            "results/plots/{suite}/{setting}/curves.png",
            caption="../report/curves.rst",
            category="Training dynamics",
            subcategory="{suite}",
            labels={"suite": "{suite}", "setting": "{setting}", "figure": "reward curves"},
        ),
        pdf="results/plots/{suite}/{setting}/curves.pdf",
    params:
        flags=curve_flags,
        out=output_prefix,
    log:
        "logs/report/curves/{suite}/{setting}.log",
    benchmark:
        "benchmarks/report/curves/{suite}/{setting}.tsv"
    conda:
        "../envs/gd2po.yaml"
    shell:
        "python -m gd2po report curves {params.flags} --out {params.out} > {log} 2>&1"


rule plot_diagnostics:
    """Conflict rate, keep ratio and cancellation over training for every method."""
    input:
        curve_inputs,
    output:
        png=report(
            "results/plots/{suite}/{setting}/diagnostics.png",
            caption="../report/diagnostics.rst",
            category="Training dynamics",
            subcategory="{suite}",
            labels={"suite": "{suite}", "setting": "{setting}", "figure": "advantage diagnostics"},
        ),
        pdf="results/plots/{suite}/{setting}/diagnostics.pdf",
    params:
        flags=curve_flags,
        out=output_prefix,
    log:
        "logs/report/diagnostics/{suite}/{setting}.log",
    benchmark:
        "benchmarks/report/diagnostics/{suite}/{setting}.tsv"
    conda:
        "../envs/gd2po.yaml"
    shell:
        "python -m gd2po report diagnostics {params.flags} --out {params.out} > {log} 2>&1"


rule plot_efficiency:
    """Steps each method needs to reach the baseline's (GDPO's) final training reward."""
    input:
        curve_inputs,
    output:
        png=report(
            "results/plots/{suite}/{setting}/efficiency.png",
            caption="../report/efficiency.rst",
            category="Training dynamics",
            subcategory="{suite}",
            labels={"suite": "{suite}", "setting": "{setting}", "figure": "learning efficiency"},
        ),
        pdf="results/plots/{suite}/{setting}/efficiency.pdf",
        csv="results/plots/{suite}/{setting}/efficiency.csv",
    params:
        flags=efficiency_flags,
        out=output_prefix,
    log:
        "logs/report/efficiency/{suite}/{setting}.log",
    benchmark:
        "benchmarks/report/efficiency/{suite}/{setting}.tsv"
    conda:
        "../envs/gd2po.yaml"
    shell:
        "python -m gd2po report efficiency {params.flags} --out {params.out} > {log} 2>&1"


rule plot_sweep:
    """A held-out metric against a swept run-config value (GD²PO-SNR's τ)."""
    input:
        ablation_inputs,
    output:
        png=report(
            "results/plots/ablations/{ablation}.png",
            caption="../report/sweep.rst",
            category="Ablations",
            subcategory="{ablation}",
            labels={"ablation": "{ablation}", "figure": "sweep"},
        ),
        pdf="results/plots/ablations/{ablation}.pdf",
    params:
        flags=sweep_flags,
        out=output_prefix,
    log:
        "logs/report/sweep/{ablation}.log",
    benchmark:
        "benchmarks/report/sweep/{ablation}.tsv"
    conda:
        "../envs/gd2po.yaml"
    shell:
        "python -m gd2po report sweep {params.flags} --out {params.out} > {log} 2>&1"
