"""Batch mode for both generation scripts: the same jobs and records as a direct run, with every
model request sent through the provider's batch API (OpenAI/Azure files + batches, Anthropic message
batches) in rounds, resumable across crashes.

replay: runs a job against the results known so far and says which requests it still needs;
store: the state beside the outputs (plans, batch ids, results); plan: a round's requests streamed
into batch files split at the providers' limits, and the --dry-run description; apis: one small set
of functions per provider; remote: submitting, cancelling and collecting batches; poll: waiting on
them (backoff, the poll timeout); runner: the loop (replay, submit, wait, collect, replay) and its
reports.

May import: arena_hard.core, arena_hard.models, arena_hard.generate.pipeline."""
