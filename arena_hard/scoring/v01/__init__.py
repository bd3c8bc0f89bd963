"""The v0.1 leaderboard (Bradley-Terry ratings with a 95% bootstrap CI), one module per role, named as in
every bench version's folder: run (show_result.py's run), battles, fit, style_control, board, table,
full_stats, output; and, v0.1 only, the saved rounds (bootstrap_file) and the record of what saved
battles and rounds came from (saved_source).

May import: arena_hard.core and the shared modules of arena_hard.scoring (never another version's folder)."""
