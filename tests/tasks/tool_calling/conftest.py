import os

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_name] = "1"
# One torch thread: the tiny models gain nothing from more, and idle OpenMP threads spin on a shared machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")

