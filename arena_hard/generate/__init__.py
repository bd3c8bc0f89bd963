"""Generating answers and judgments: the shared run loop (resume, streamed writes, sorted rewrite,
report), the pure pieces of a judge game (prompt filling, verdict parsing), and batch mode (batch/:
the same jobs through the providers' batch APIs).

May import: arena_hard.core, arena_hard.models."""
