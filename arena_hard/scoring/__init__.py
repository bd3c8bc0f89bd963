"""Scoring judgments: verdict labels, battles, Bradley-Terry ratings and their bootstrap, style control,
judge consistency, the leaderboard and its plot, and the per-file cache of what was read.

May import: arena_hard.core."""
