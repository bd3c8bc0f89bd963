"""YAML parsing for the configs, stricter than yaml.safe_load where a careless or hostile file would
otherwise give a silently wrong or runaway result.

- A key written twice in one mapping (a model defined twice in api_config.yaml) is refused, naming
  both lines; YAML merge keys (`<<: *base`) may still be overridden.
- Aliases are loaded as shared objects (no copying). A document whose full expansion (every alias
  written out, as JSON would send it) exceeds MAX_EXPANDED_BYTES, or that contains itself, is refused:
  nested aliases ("billion laughs") would otherwise grow without bound when a request is sent.
  The size is computed once per shared object, so checking it takes time linear in the file.
- A surrogate pair escaped in a double-quoted string ("\\ud83d\\ude00") is joined into its character, as
  JSON reads it; a lone surrogate ("\\ud800"; UTF-8 text cannot hold one otherwise) is refused, naming its
  key: no API takes it, and as a model name it can be neither a file name nor printed.
Reads and writes nothing: the caller passes the text."""
from __future__ import annotations

from typing import Any

import yaml

from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import LONE_SURROGATE

MAX_EXPANDED_BYTES = 10_000_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _StrictLoader(yaml.SafeLoader):
    source = "the YAML file"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                if key in first_line:
                    raise UserError(f"{self.source}:{line}: `{key}` is defined twice (first at line "
                                    f"{first_line[key]}); keep one of them")
                first_line[key] = line
        return super().construct_mapping(node, deep)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _StrictLoader.construct_yaml_map)


def expanded_size(value: Any, source: str) -> int:
    """About how many bytes `value` takes written out as JSON, each shared object counted at every place
    it appears (computed once per object); a value that contains itself is a UserError."""
    sizes: dict[int, int] = {}
    open_ids: set[int] = set()

    def size(item: Any) -> int:
        if isinstance(item, str):
            return len(item) + 2
        if not isinstance(item, (dict, list)):
            return 8
        known = sizes.get(id(item))
        if known is not None:
            return known
        if id(item) in open_ids:
            raise UserError(f"{source}: an alias refers to a value that contains it (a loop); remove the loop")
        open_ids.add(id(item))
        if isinstance(item, dict):
            total = 2 + sum(size(key) + size(child) + 2 for key, child in item.items())
        else:
            total = 2 + sum(size(child) + 1 for child in item)
        open_ids.discard(id(item))
        sizes[id(item)] = total
        return total

    return size(value)


def _joined(text: str) -> str:
    """`text` with each surrogate pair joined into its character, as JSON reads "\\ud83d\\ude00" (PyYAML keeps
    the two halves); a lone surrogate raises UnicodeDecodeError."""
    if LONE_SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def join_surrogates(value: Any) -> str | None:
    """Join the surrogate pairs of every string in `value` (keys and values, in place); the key path
    (`a.b[2]`) of the first string holding a lone surrogate, else None. Each shared object is done once."""
    seen: set[int] = set()

    def fix(item: Any, path: str) -> str | None:
        if not isinstance(item, (dict, list)) or id(item) in seen:
            return None
        seen.add(id(item))
        pairs = list(item.items() if isinstance(item, dict) else enumerate(item))
        if isinstance(item, dict):
            item.clear()
        for key, child in pairs:
            where = f"{path}[{key}]" if isinstance(item, list) else f"{path}.{key}" if path else str(key)
            try:
                key = _joined(key) if isinstance(key, str) else key
                child = _joined(child) if isinstance(child, str) else child
            except UnicodeDecodeError:
                return where
            item[key] = child
            found = fix(child, where)
            if found is not None:
                return found
        return None

    return fix(value, "")


def safe_load(text: str, source: str) -> Any:
    """yaml.safe_load with the checks above; `source` names the file in messages."""
    loader = _StrictLoader(text)
    loader.source = source
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    size = expanded_size(data, source)
    if size > MAX_EXPANDED_BYTES:
        raise UserError(f"{source}: its aliases (*name) expand to over {MAX_EXPANDED_BYTES:,} bytes (aliases "
                        "nested in aliases); write the values out instead")
    holder = {"": data}  # the document itself may be a string
    key = join_surrogates(holder)  # on a lone surrogate, the document is left half done: it is refused
    if key is not None:
        shown = LONE_SURROGATE.sub(lambda match: ascii(match.group())[1:-1], key) or "the document"
        raise UserError(f"{source}: `{shown}` holds a lone surrogate (an escape such as \\ud800), "
                        "which is not text: no API takes it and no file name holds it; remove the escape")
    return holder[""]
