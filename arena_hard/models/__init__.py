"""Model access: one provider function per api_type, the per-model client (concurrency bound, endpoint
health, usage), which failures are retried (the wait between attempts is core.retry_policy), the one
concurrency helper, and the offline mock models.

May import: arena_hard.core."""
