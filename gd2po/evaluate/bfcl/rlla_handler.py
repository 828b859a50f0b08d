"""The BFCL v3 handler for the suite's output format (ToolRL's RLLA prompt, rendered by the checkpoint).

Eval venv only: imported by ``wrapper.py`` as a top-level module (bfcl-eval and its numpy 1.26 do not
load in the training environment). bfcl-eval 2025.8.6.2 handler API: ``__init__(model_name,
temperature)``, ``decode_ast(result, language)``, ``decode_execute(result)``; ``overrides`` requires
``@override`` on every overriding method.

Differences from ToolRL's ``rlla_qwen.py`` (docs/bfcl.md §5.2), both deliberate:
- the two prompt messages go through the checkpoint tokenizer's own ``chat_template`` instead of
  hard-coded Qwen ChatML (identical for Qwen2.5; right for other families and for what training
  rollouts see);
- multi-turn entries get ToolRL's multi-turn user instruction. ToolRL's handler has that branch, but
  bfcl's ``_query_prompting`` never passes the turn type, so on stock bfcl it is dead code.
"""

from __future__ import annotations

import time

from bfcl_eval.model_handler.local_inference.base_oss_handler import OSSHandler
from bfcl_eval.model_handler.utils import func_doc_language_specific_pre_processing
from bfcl_eval.utils import is_multi_turn
from overrides import override

from rlla_format import decode_ast_calls, decode_execute_calls, dialogue_history, system_prompt

MAX_NEW_TOKENS = 4096  # bfcl's cap for local models


class RllaChatHandler(OSSHandler):
    """Prompting-mode handler: RLLA system + dialogue messages through the tokenizer's chat template."""

    @override
    def _pre_query_processing_prompting(self, test_entry: dict) -> dict:
        # bfcl's default also injects its own system prompt, which the RLLA prompt replaces.
        category = test_entry["id"].rsplit("_", 1)[0]
        functions = func_doc_language_specific_pre_processing(test_entry["function"], category)
        return {"message": [], "function": functions, "multi_turn": is_multi_turn(category)}

    @override
    def _format_prompt(self, messages, function, multi_turn=False):
        chat = [
            {"role": "system", "content": system_prompt(function)},
            {"role": "user", "content": dialogue_history(messages, multi_turn)},
        ]
        return self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)

    @override
    def _query_prompting(self, inference_data: dict):
        prompt = self._format_prompt(
            inference_data["message"], inference_data["function"], multi_turn=inference_data["multi_turn"]
        )
        inference_data["inference_input_log"] = {"formatted_prompt": prompt}
        prompt_tokens = len(self.tokenizer.tokenize(prompt))
        # As bfcl: fill the context up to 4096 new tokens; an over-long prompt gets a request the
        # server rejects, which bfcl records as an inference error.
        room = self.max_context_length - prompt_tokens - 2
        max_tokens = min(MAX_NEW_TOKENS, room) if room > 0 else 1000
        started = time.time()
        response = self.client.completions.create(
            model=self.model_path_or_id,
            temperature=self.temperature,
            prompt=prompt,
            max_tokens=max_tokens,
            timeout=72000,
        )
        return response, time.time() - started

    @override
    def decode_ast(self, result, language="Python"):
        return decode_ast_calls(result)

    @override
    def decode_execute(self, result):
        return decode_execute_calls(result)
