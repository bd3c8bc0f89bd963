"""Getting the official data: the HTTP client, the official kits pinned by checksum, and the Hugging
Face Hub's pre-generated answers and judgments.

May import: arena_hard.core."""
