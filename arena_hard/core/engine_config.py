"""A local inference server's entry in api_config.yaml (upstream's `qwq-32b`): `api_type: sglang` or
`vllm` with `local_engine: true` has the run start the engine's OpenAI-compatible server itself
(arena_hard.generate.local_engine), with these options:

  engine_args       extra command-line options, a mapping ({max_model_len: 32768, enable_prefix_caching:
                    true} -> --max-model-len 32768 --enable-prefix-caching) or a list of arguments
  replicas          servers to start, each on its own share of the visible GPUs and its own port (default 1)
  startup_timeout   seconds a server may take to become healthy, downloads included (default 3600)
  end_think_token   the answer is what follows it, the thought what comes before (as upstream)

Reads nothing; writes nothing."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from arena_hard.core.config_file import Section
from arena_hard.core.errors import UserError

ENGINE_KEYS = ("local_engine", "engine_args", "replicas", "startup_timeout", "end_think_token")
PARALLEL_PER_REPLICA = 256  # upstream's max_workers: the engine batches what is in flight


@dataclass(frozen=True)
class LocalEngine:
    engine: str  # sglang | vllm
    args: tuple[str, ...] = ()  # from engine_args, appended to the server's command line
    replicas: int = 1
    startup_timeout: float = 3600.0

    @property
    def default_parallel(self) -> int:
        return PARALLEL_PER_REPLICA * self.replicas


def local_engine(section: Section, api_type: str) -> LocalEngine | None:
    """The entry's LocalEngine when it says `local_engine: true`, else None (a server already running)."""
    if not section.flag("local_engine", False):
        for key in ("engine_args", "replicas", "startup_timeout"):
            if key in section.data:
                raise UserError(f"{section.where(key)} needs `local_engine: true` (the run starts the server)")
        return None
    return LocalEngine(api_type, engine_arguments(section), section.integer("replicas", 1),
                       section.number("startup_timeout", 3600.0, minimum=1.0))


def engine_arguments(section: Section) -> tuple[str, ...]:
    """engine_args as command-line arguments: a key becomes --key-with-dashes; true a bare flag, false and
    null nothing, a list its items, a mapping its JSON; a list of strings is passed as it is."""
    raw = section.get("engine_args", lambda v: isinstance(v, dict) or isinstance(v, list) and all(
        isinstance(a, str) for a in v), "a mapping of option: value (or a list of arguments)", {})
    if isinstance(raw, list):
        return tuple(raw)
    args: list[str] = []
    for key, value in raw.items():
        if value is None or value is False:
            continue
        args.append(str(key) if str(key).startswith("-") else "--" + str(key).replace("_", "-"))
        if value is not True:
            args.extend(_text(item) for item in (value if isinstance(value, list) else [value]))
    return tuple(args)


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, dict) else str(value)
