"""Tiny local models for CPU runs and tests: a locally trained tokenizer, a small Qwen2, a warm start."""
