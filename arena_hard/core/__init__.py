"""The core every other part stands on: the bench definitions (bench_version: what v0.1 and v2.0 each
are, and their defaults), user-facing errors, JSONL files, typed records (one reader per record kind),
the YAML configs (answer and judge settings, the endpoint file, the retry policy it configures; strict
YAML loading), the one rule turning model, judge and bench names into file names, and token/markdown
counts of answer text.

May import: the standard library and third-party packages only; nothing else of arena_hard."""
