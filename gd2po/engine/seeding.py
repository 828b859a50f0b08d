"""Seeds that TRL 1.16 does not pass on (huggingface/trl#7040).

* The colocated vLLM engine gets ``seed = process_index // tensor_parallel_size`` in TRL, whatever
  ``args.seed`` is, so runs that differ only in their seed sample the same rollouts. We build it with
  ``args.seed + process_index // tensor_parallel_size`` (one seed per TP group, as TRL intends).
* ``RepeatSampler`` is seeded from ``args.seed`` and ignores ``data_seed``; the trainer reseeds it.
"""

from __future__ import annotations

import contextlib
import os


def vllm_seed(seed: int, process_index: int, tensor_parallel_size: int) -> int:
    return seed + process_index // tensor_parallel_size


@contextlib.contextmanager
def seeded_vllm_engine(seed: int):
    """While active, every ``vllm.LLM`` that TRL's generation backend builds gets ``seed``."""
    import trl.generation.vllm_generation as generation

    original = getattr(generation, "LLM", None)  # absent when vLLM is not installed
    if original is None:
        yield
        return

    def llm_with_seed(*args, **kwargs):
        kwargs["seed"] = seed
        return original(*args, **kwargs)

    generation.LLM = llm_with_seed
    try:
        yield
    finally:
        generation.LLM = original


def deterministic_vllm_environment() -> None:
    """vLLM V1 runs the engine core in a subprocess by default, which breaks run-to-run determinism
    (vllm-project/vllm#18741); keep it in-process unless the user decided otherwise."""
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")


def effective_seeds(seed: int, data_seed: int | None, process_index: int, tensor_parallel_size: int, use_vllm: bool) -> dict:
    """The seeds each component of this process actually uses, for the run's metadata."""
    return {
        "seed": seed,
        "data_seed": seed if data_seed is None else data_seed,
        # TRL calls set_seed(args.seed, device_specific=True): torch/numpy/random get seed + process_index
        "torch_process_seed": seed + process_index,
        "vllm_engine_seed": vllm_seed(seed, process_index, tensor_parallel_size) if use_vllm else None,
    }
