"""A YAML file that names a key twice keeps only the last value, silently: the console
once showed a message-length error ("máximo 1500 caracteres") for a too-long clinic
name. Every file of texts, words and flows names each key once."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    path
    for folder in ("locales", "templates", "vocabulary", "flows")
    for path in (ROOT / folder).rglob("*.y*ml")
)


class _Strict(yaml.SafeLoader):
    """A loader that refuses a mapping naming a key twice."""


def _mapping(loader: _Strict, node: yaml.MappingNode) -> dict[object, object]:
    keys = [loader.construct_object(key) for key, _ in node.value]
    twice = sorted({str(k) for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"line {node.start_mark.line + 1}: {', '.join(twice)} named twice")
    return loader.construct_mapping(node)


_Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_key_is_named_once(path: Path) -> None:
    yaml.load(path.read_text(encoding="utf-8"), Loader=_Strict)  # a SafeLoader underneath


def test_there_are_files_to_check() -> None:
    assert len(FILES) > 20
