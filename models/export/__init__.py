"""Exporters from Hugging Face checkpoints and tiny-model builders; need the `[export]` extra (torch)."""
