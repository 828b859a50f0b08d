"""Every test runs offline (no hub) and with one torch thread per process.

Subprocesses inherit both: the tiny models gain nothing from more threads, and on a shared 2-core
machine idle OpenMP threads spin and slow every test down severalfold.
"""

import os

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_name] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402 - after OMP_NUM_THREADS, which torch reads when it loads

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
