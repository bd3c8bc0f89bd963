"""BenchBuilder: an Arena-Hard-style bench built from a prompt log (build_bench.py), in swappable
stages as BERTopic arranges them: read the log (read_log), embed the prompts (embed, over the vector
cache in vectors), cluster them into topics (cluster) and name the topics (topic_names), label the
prompts with BenchBuilder's criteria (criteria: the request and the parse; calls: one cached call per
item, direct or batch), filter by prompt and topic score and sample (select), and write the bench
and its report (output). run ties the stages together; settings reads the setting file.

May import: arena_hard.core, arena_hard.models, arena_hard.generate."""
