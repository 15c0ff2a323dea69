"""Whether a request carries the admin API's bearer token (`ADMIN_API_TOKEN`), compared
in constant time: the admin API and `/metrics` ask it."""

import hmac

from flask import current_app, request


def holds_admin_token() -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected: str = current_app.extensions["turnero"]["settings"].admin_token
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), expected.encode()
    )
