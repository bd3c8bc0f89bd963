"""Getting the official data: the HTTP client (http_client), the official v0.1 kit pinned by checksum
(official_kit), syncing files against their checksums with atomic placement (file_sync) and what the
command prints of it (sync_report), and upstream's pre-generated answers and judgments on the Hugging
Face Hub through huggingface_hub (hub: listing, revision, downloads; hub_selection: which files).

May import: arena_hard.core."""
