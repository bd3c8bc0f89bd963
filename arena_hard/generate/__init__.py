"""Generating answers and judgments: the shared run loop (resume, streamed writes, sorted rewrite,
report) and the pure pieces of a judge game (prompt filling, verdict parsing).

May import: arena_hard.core, arena_hard.models."""
