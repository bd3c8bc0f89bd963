"""Model access: one provider function per api_type, the per-model client (concurrency bound, endpoint
health, usage), retries written once, the one concurrency helper, and the offline mock models.

May import: arena_hard.core."""
