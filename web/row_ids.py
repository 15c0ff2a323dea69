"""The `int` of every route: an id in a path only up to what an id column holds, so a
larger one is a 404 like any id that names nothing, not a query the database refuses."""

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from bot.numbers import LARGEST_ID


class RowIdConverter(IntegerConverter):
    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(url_map, *args, **kwargs)
