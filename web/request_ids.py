"""Each request's id: the caller's `X-Request-ID` (or Twilio's idempotency token) where it
is a short plain token, else a new one; set for the log lines written while handling the
request (`config.request_ids`) and sent back in the response's `X-Request-ID`."""

from flask import Flask, Response, g, request

from config.request_ids import CURRENT, accepted_request_id

HEADER = "X-Request-ID"
TWILIO_HEADER = "I-Twilio-Idempotency-Token"  # Twilio's id of a webhook call, kept on retries


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
    g.request_id, g.request_id_token = request_id, CURRENT.set(request_id)


def _answer_with_id(response: Response) -> Response:
    if "request_id" in g:
        response.headers[HEADER] = g.request_id
    return response


def _end(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        CURRENT.reset(token)
