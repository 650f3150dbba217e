"""Safe YAML loading that remembers where every key and value was written.

Mappings load as `YamlMap` and sequences as `YamlList`: ordinary dicts and lists that also know
their own position and the positions of their keys and items. Scalars stay plain Python values
(bool and None cannot be subclassed), so their positions live in the container that holds them.
Only YAML's safe types are built; duplicate keys are an error instead of "last one wins".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

from coach.content.errors import ContentError
from coach.content.limits import LIMITS
from coach.content.model import SourcePos

__all__ = ["YamlList", "YamlMap", "load_yaml", "yaml_error_to_content_error"]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TAB_HINT = "YAML indents with spaces, not tabs"
_FLOAT_TAG = "tag:yaml.org,2002:float"
# YAML 1.1 (PyYAML) wants a dot in a float, so `1e9` or `2E3` would load as text and a user
# who wrote a number would be told it is not one. YAML 1.2 reads them as numbers; so do we.
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")


class YamlMap(dict[Any, Any]):
    """A YAML mapping that knows where it, its keys and its values were written."""

    def __init__(self, pos: SourcePos) -> None:
        super().__init__()
        self.pos = pos
        """Where the mapping starts (its first key, or the `{`)."""
        self._key_pos: dict[Any, SourcePos] = {}
        self._value_pos: dict[Any, SourcePos] = {}

    def put(self, key: Any, value: Any, key_pos: SourcePos, value_pos: SourcePos) -> None:
        """Store a value with the positions of its key and its value."""
        self[key] = value
        self._key_pos[key] = key_pos
        self._value_pos[key] = value_pos

    def key_pos(self, key: Any) -> SourcePos:
        """Where `key` was written (the mapping's position if it was not)."""
        return self._key_pos.get(key, self.pos)

    def value_pos(self, key: Any) -> SourcePos:
        """Where the value of `key` was written (the mapping's position if it was not)."""
        return self._value_pos.get(key, self.pos)


class YamlList(list[Any]):
    """A YAML sequence that knows where it and each of its items were written."""

    def __init__(self, pos: SourcePos) -> None:
        super().__init__()
        self.pos = pos
        """Where the sequence starts (its first `-`, or the `[`)."""
        self._item_pos: list[SourcePos] = []

    def add(self, item: Any, pos: SourcePos) -> None:
        """Append an item with its position."""
        self.append(item)
        self._item_pos.append(pos)

    def item_pos(self, index: int) -> SourcePos:
        """Where item `index` was written."""
        return self._item_pos[index] if 0 <= index < len(self._item_pos) else self.pos


class _PositionLoader(yaml.SafeLoader):
    """SafeLoader that builds YamlMap/YamlList with 1-based positions."""

    def __init__(self, stream: str | bytes | IO[str] | IO[bytes], path: Path) -> None:
        super().__init__(stream)
        self.source_path = path
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # PyYAML composes and constructs recursively: a few hundred `[` in a tiny file would
        # exhaust Python's stack. Refuse depth long before that, at the place it happens.
        self._depth += 1
        try:
            if self._depth > LIMITS.nesting:
                raise ComposerError(
                    None, None,
                    f"lists and mappings nested more than {LIMITS.nesting} deep",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def position(self, node: Node) -> SourcePos:
        mark = node.start_mark
        return SourcePos(self.source_path, mark.line + 1, mark.column + 1)

    def construct_marked_map(self, node: MappingNode) -> Iterator[YamlMap]:
        data = YamlMap(self.position(node))
        yield data
        own_pairs = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE_TAG)
        self.flatten_mapping(node)  # resolves `<<: *anchor`; merged pairs come first
        merged_count = len(node.value) - own_pairs
        merged_keys: set[Any] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=False)
            self._check_key(node, key_node, key, data, merged_keys)
            value = self.construct_object(value_node, deep=False)
            data.put(key, value, self.position(key_node), self.position(value_node))
            if index < merged_count:
                merged_keys.add(key)
            else:
                merged_keys.discard(key)

    def _check_key(
        self, node: MappingNode, key_node: Node, key: Any, data: YamlMap, merged: set[Any]
    ) -> None:
        try:
            hash(key)
        except TypeError as exc:
            raise ConstructorError(
                "keys must be plain values", node.start_mark,
                "found a key that is a list or mapping", key_node.start_mark,
            ) from exc
        if key in data and key not in merged:
            raise ConstructorError(
                "each key may appear only once in a mapping", node.start_mark,
                f"duplicate key {key!r}", key_node.start_mark,
            )

    def construct_marked_list(self, node: SequenceNode) -> Iterator[YamlList]:
        data = YamlList(self.position(node))
        yield data
        for child in node.value:
            data.add(self.construct_object(child, deep=False), self.position(child))


_PositionLoader.add_constructor("tag:yaml.org,2002:map", _PositionLoader.construct_marked_map)
_PositionLoader.add_constructor("tag:yaml.org,2002:seq", _PositionLoader.construct_marked_list)
_PositionLoader.add_implicit_resolver(_FLOAT_TAG, _EXPONENT_FLOAT, list("-+0123456789"))


def load_yaml(stream: str | bytes | IO[str] | IO[bytes], path: Path) -> Any:
    """Load one YAML document safely; raises yaml.YAMLError on bad syntax.

    `path` is only used to label positions.
    """
    loader = _PositionLoader(stream, path)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def yaml_error_to_content_error(error: yaml.YAMLError, path: Path) -> ContentError:
    """Turn a PyYAML syntax error into a ContentError at the problem's position."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        hint = _TAB_HINT if "'\\t'" in problem else (error.context or "")
        if mark is None:
            return ContentError.whole_file(path, f"invalid YAML: {problem}", hint)
        pos = SourcePos(path, mark.line + 1, mark.column + 1)
        return ContentError.at(pos, f"invalid YAML: {problem}", hint)
    if isinstance(error, yaml.reader.ReaderError):
        return ContentError.whole_file(
            path, "invalid YAML: the file is not valid text", "save it as UTF-8"
        )
    return ContentError.whole_file(path, f"invalid YAML: {error}")
