"""The machinery behind the Arena-Hard-Auto scripts (gen_answer.py, gen_judgment.py, show_result.py,
qa_browser.py). The scripts at the top level are the user's interface; this package holds the parts
they share: records and their JSONL files, configs, model access, judging and scoring."""
