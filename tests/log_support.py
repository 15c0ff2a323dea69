"""What the root logger's handlers write, as a process that logs writes it: a handler on
a string, at INFO in the command's format, with the root logger's handlers, formats and
levels restored after."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from config.logs import FORMAT, QUIET


@contextmanager
def root_written() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET)}
    kept = {h: (h.formatter, list(h.filters)) for h in root.handlers}
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for other, (formatter, filters) in kept.items():
            other.setFormatter(formatter)
            other.filters[:] = filters
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line written, each read as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]
