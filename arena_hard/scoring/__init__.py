"""Scoring judgments into leaderboards. The modules here are shared by every bench version: verdict labels
and the lean judgment reader, judgment records pooled over judges, answer statistics, the files a
leaderboard reads and their cache, the Newton solver, coverage, judge consistency, the plot, where
results are written, and rows weighted by --weight instead of copied. Each bench version's leaderboard
lives in its own folder, v01/ (Bradley-Terry) and v2/ (bootstrapped win rate), with the same module
names by role; a version folder imports only the shared modules, never another version's.

May import: arena_hard.core."""
