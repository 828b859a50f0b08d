import pytest


@pytest.fixture(scope="session")
def toy_tokenizer():
    from gd2po.models.tokenizer import train_tokenizer
    from gd2po.tasks.toy import ToyTask

    task = ToyTask()
    return train_tokenizer(task.tokenizer_corpus(task.Options(), seed=0), vocab_size=384)
