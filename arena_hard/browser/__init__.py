"""What qa_browser.py shows, without gradio: questions, answers and judgments of a bench, and the
markdown of each panel.

May import: arena_hard.core, arena_hard.scoring."""
