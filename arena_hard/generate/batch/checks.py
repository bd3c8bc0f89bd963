"""What must hold before a run starts, in batch mode or not, so that nothing is paid twice or sent
where no batch API is: `check_batch_models` (batch mode only for OpenAI, Azure and Anthropic, or a
server of their API) and `refuse_open_batches` (no direct run of an output an open batch holds
requests of, and no batch run whose model's entry now points elsewhere than such a batch). Reads the
batch state (batch.store); writes nothing."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.generate.batch.apis import BATCH_APIS
from arena_hard.generate.batch.plan import describe_group
from arena_hard.generate.batch.store import BatchStore, entry_name


def check_batch_models(models: Sequence[ModelConfig]) -> None:
    """Before anything is asked: every model goes to OpenAI, Azure or Anthropic (or a server of their
    API). Upstream's deepseek, xai, ... entries are served through the openai client, but their
    vendors' APIs are not OpenAI's batch API."""
    for model in models:
        if model.api_type not in BATCH_APIS or model.vendor:
            raise UserError(f"{model.source}: `{model.name}` (api_type {model.vendor or model.api_type}) has no batch "
                            f"API; batch mode works with api_type {', '.join(BATCH_APIS)} (drop --batch or its "
                            "`batch: true`)")


def refuse_open_batches(outputs: Sequence[tuple[str, Path, ModelConfig | None]]) -> None:
    """Before a run (or its --dry-run) of these (label, output, model) triples, the model None for a
    direct run: stop with one line saying what to do when an open batch (or one perhaps submitted)
    holds requests of an output and the run would pay for them again. A direct run would send them
    itself; a batch run whose model no longer reaches the batch's endpoint (its api_config entry was
    edited) would send them to the new one. The old endpoint is not asked with the entry's new key
    (that key may not be meant for that server), so the batch is collected or cancelled once the
    entry is restored."""
    for directory in dict.fromkeys(output.parent / ".batch" for _, output, _ in outputs):
        if not (directory / "batches.jsonl").exists():
            continue
        store = BatchStore.open(directory, write=False)
        try:
            held = store.held_by_label()
        finally:
            store.close()
        for label, output, model in outputs:
            entries = held.get(label, []) if output.parent / ".batch" == directory else []
            group = BATCH_APIS[model.api_type].group(model) if model is not None else None
            entries = [entry for entry in entries if entry.group != group]
            if not entries:
                continue
            names = [entry_name(entry) for entry in entries]
            batches = f"batch {', '.join(names[:3])}{', ...' if len(names) > 3 else ''} (state in {directory})"
            if model is None:
                raise UserError(f"{output}: {batches} holds requests of {label} and may still run at the provider; "
                                "a direct run would pay for them again: collect it (rerun with --batch) or cancel it "
                                "(--cancel) first")
            raise UserError(f"{output}: {batches} holds requests of {label} and was sent to "
                            f"{describe_group(entries[0].group)}, but `{model.name}` in {model.source} now goes to "
                            f"{describe_group(group)}, where they would be paid for again: restore the entry to "
                            f"collect the batch (--batch) or cancel it (--cancel); if that server is gone for good, "
                            f"delete {directory} and its requests are sent anew")
