"""Fakes for the BFCL tests: a toy checkpoint dir and an OpenAI-compatible completion server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

# Not ChatML, so a prompt that went through it cannot have come from a hard-coded template.
TOY_CHAT_TEMPLATE = (
    "{% for message in messages %}[[{{ message['role'] | upper }}]]\n{{ message['content'] }}\n[[END]]\n{% endfor %}"
    "{% if add_generation_prompt %}[[ASSISTANT]]\n{% endif %}"
)


def write_toy_checkpoint(model_dir: Path, chat_template: str | None = TOY_CHAT_TEMPLATE) -> Path:
    """Config and tokenizer files as bfcl loads them (``--local-model-path``); no weights."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    model_dir.mkdir(parents=True)
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(["a tool call with parameters"], trainer)
    tokenizer.save(str(model_dir / "tokenizer.json"))
    tokenizer_config = {"tokenizer_class": "PreTrainedTokenizerFast"}
    if chat_template is not None:
        tokenizer_config["chat_template"] = chat_template
    (model_dir / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    (model_dir / "config.json").write_text(json.dumps({"model_type": "qwen2", "max_position_embeddings": 8192}))
    return model_dir


class FakeCompletionServer:
    """``GET /v1/models`` lists ``model_id``; ``POST /v1/completions`` answers ``reply(prompt)``.

    ``reply`` returns the completion text, or ``(status, message)`` for an HTTP error. Every prompt
    is kept in ``prompts``, in arrival order.
    """

    def __init__(self, model_id: str, reply: Callable[[str], str | tuple[int, str]], models_status: int = 200):
        self.model_id, self.reply, self.models_status = model_id, reply, models_status
        self.prompts: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path != "/v1/models":
                    return self._send(404, {"error": {"message": "not found"}})
                if fake.models_status != 200:
                    return self._send(fake.models_status, {"error": {"message": "loading"}})
                self._send(200, {"object": "list", "data": [{"id": fake.model_id, "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["prompt"]
                fake.prompts.append(prompt)
                answer = fake.reply(prompt)
                if isinstance(answer, tuple):
                    status, message = answer
                    return self._send(status, {"error": {"message": message, "type": "BadRequestError", "code": status}})
                self._send(200, {
                    "id": "cmpl-fake", "object": "text_completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "text": answer, "finish_reason": "stop", "logprobs": None}],
                    "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(answer.split()),
                              "total_tokens": len(prompt.split()) + len(answer.split())},
                })

        return Handler
