"""The core every other part stands on: user-facing errors, JSONL files, typed records (one reader per
record kind), the YAML configs, and token/markdown counts of answer text.

May import: the standard library and third-party packages only; nothing else of arena_hard."""
