import os

import pytest
import torch

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_name] = "1"
# One torch thread per process (subprocesses inherit it): the tiny models gain nothing from more,
# and on a shared 2-core machine idle OpenMP threads spin and slow every test down severalfold.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture(scope="session")
def toy_tokenizer():
    from gd2po.models.tokenizer import train_tokenizer
    from gd2po.tasks.toy import ToyTask

    task = ToyTask()
    return train_tokenizer(task.tokenizer_corpus(task.Options(), seed=0), vocab_size=384)
