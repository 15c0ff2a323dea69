"""Each request's id: the caller's `X-Request-ID` (or Twilio's idempotency token) where it
is a short plain token, else a new one; set for the log lines written while handling the
request (`config.request_ids`) and sent back in the response's `X-Request-ID`."""

from contextvars import Token

from flask import Flask, Response, request

from config.request_ids import CURRENT, accepted_request_id

HEADER = "X-Request-ID"
TWILIO_HEADER = "I-Twilio-Idempotency-Token"  # Twilio's id of a webhook call, kept on retries
# Kept on the request itself, not on `g`: a request handled inside another one in the same
# thread shares its application context, and with it `g`.
_ID, _TOKEN = "turnero.request_id", "turnero.request_id_token"


def track_request_ids(app: Flask) -> None:
    """Give every request of `app` an id; call before any other `before_request` is
    added, so a request refused early is logged with its id too."""
    app.before_request(_begin)
    app.after_request(_answer_with_id)
    app.teardown_request(_end)


def _begin() -> None:
    request_id = accepted_request_id(
        request.headers.get(HEADER), request.headers.get(TWILIO_HEADER)
    )
    request.environ[_ID], request.environ[_TOKEN] = request_id, CURRENT.set(request_id)


def _answer_with_id(response: Response) -> Response:
    if _ID in request.environ:
        response.headers[HEADER] = request.environ[_ID]
    return response


def _end(_error: BaseException | None) -> None:
    token: Token[str | None] | None = request.environ.pop(_TOKEN, None)
    if token is not None:
        CURRENT.reset(token)
