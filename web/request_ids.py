"""Each request's id: the caller's `X-Request-ID` (or Twilio's idempotency token) where it
is a short plain token, else a new one; set for the log lines written while handling the
request (`config.request_ids`) and sent back in the response's `X-Request-ID`.

A WSGI layer around the app rather than three Flask hooks: the same for every request, at
a fraction of the cost on the webhook, where every request counts."""

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from config.request_ids import CURRENT, accepted_request_id

HEADER = "X-Request-ID"
_OFFERED = "HTTP_X_REQUEST_ID"
_TWILIO = "HTTP_I_TWILIO_IDEMPOTENCY_TOKEN"  # Twilio's id of a webhook call, kept on retries

StartResponse = Callable[..., Any]


def track_request_ids(app: Flask) -> None:
    """Give every request of `app` an id; call before the app is wrapped in anything else
    that logs, so every line of a request carries its id."""
    app.wsgi_app = _RequestIds(app.wsgi_app)  # type: ignore[method-assign]


class _RequestIds:
    """Sets the id while the app handles the request (a request handled inside another
    gets its own, and the outer one's comes back after it) and names it in the response."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request_id = accepted_request_id(environ.get(_OFFERED), environ.get(_TWILIO))

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            return start_response(status, [*headers, (HEADER, request_id)], *exc_info)

        token = CURRENT.set(request_id)
        try:
            return self.app(environ, start)
        finally:
            CURRENT.reset(token)
