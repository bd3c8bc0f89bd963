"""YAML parsing for the configs, stricter than yaml.safe_load where a careless or hostile file would
otherwise give a silently wrong or runaway result.

- A key written twice in one mapping (a model defined twice in api_config.yaml) is refused, naming
  both lines; YAML merge keys (`<<: *base`) may still be overridden.
- Aliases are loaded as shared objects (no copying). A document whose full expansion (every alias
  written out, as JSON would send it) exceeds MAX_EXPANDED_BYTES, or that contains itself, is refused:
  nested aliases ("billion laughs") would otherwise grow without bound when a request is sent.
  The size is computed once per shared object, so checking it takes time linear in the file.
Reads and writes nothing: the caller passes the text."""
from __future__ import annotations

from typing import Any

import yaml

from arena_hard.core.errors import UserError

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
    return data
