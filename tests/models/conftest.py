import os

import pytest

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_name] = "1"


@pytest.fixture(scope="session")
def toy_tokenizer():
    from gd2po.models.tokenizer import train_tokenizer
    from gd2po.tasks.toy import ToyTask

    task = ToyTask()
    return train_tokenizer(task.tokenizer_corpus(task.Options(), seed=0), vocab_size=384)
