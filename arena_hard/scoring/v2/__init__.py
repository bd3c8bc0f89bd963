"""The v2.0 leaderboard (a bootstrapped win rate with a 90% interval per category, style control, this
project's overall line), one module per role, named as in every bench version's folder: run
(show_result.py's run), battles (the score rows), fit, style_control, board, table, full_stats, output; and,
v2.0 only, style_identify (style control where the rows leave coefficients free).

May import: arena_hard.core and the shared modules of arena_hard.scoring (never another version's folder)."""
