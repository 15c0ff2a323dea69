"""Twilio's signature behind a proxy: validated against PUBLIC_BASE_URL plus the raw path
and query the app received, over every form field however it was encoded, and never
against a URL rebuilt from X-Forwarded-* headers."""

from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from config.settings import Settings
from tests.support import AUTH_TOKEN, PUBLIC_URL, Chat, make_clinic, sign
from webhook import create_app

FORM_TYPE = "application/x-www-form-urlencoded"


def app_for(db: Engine, public_base_url: str = PUBLIC_URL) -> Flask:
    return create_app(
        Settings(
            database_url=str(db.url),
            public_base_url=public_base_url,
            twilio_account_sid="AC" + "1" * 32,
            twilio_auth_token=AUTH_TOKEN,
            secret_key="signature-secret",
        ),
        engine=db,
    )


@pytest.fixture
def client(db: Engine) -> FlaskClient:
    make_clinic(db)
    return app_for(db).test_client()


def form(db: Engine, client: FlaskClient, body: str = "hola", **extra: str) -> dict[str, str]:
    return Chat(client, db).form(body, **extra)


def post_raw(client: FlaskClient, path: str, raw: str, signature: str, **headers: str) -> int:
    """POST a body exactly as written (its encoding chosen by the test)."""
    response = client.post(
        path,
        data=raw.encode(),
        content_type=FORM_TYPE,
        headers={"X-Twilio-Signature": signature, **headers},
    )
    return response.status_code


def test_a_query_string_on_the_webhook_url_is_part_of_what_is_signed(
    db: Engine, client: FlaskClient
) -> None:
    fields = form(db, client)
    path = "/whatsapp/inbound?clinic=7&note=a%20b&x=%C3%B1"
    raw = urlencode(fields)
    assert post_raw(client, path, raw, sign(PUBLIC_URL + path, fields)) == 200
    # signed without the query, or with it decoded: not what Twilio called
    unsigned = form(db, client)
    assert (
        post_raw(
            client, path, urlencode(unsigned), sign(PUBLIC_URL + "/whatsapp/inbound", unsigned)
        )
        == 403
    )
    decoded = form(db, client)
    assert (
        post_raw(
            client,
            path,
            urlencode(decoded),
            sign(PUBLIC_URL + "/whatsapp/inbound?clinic=7&note=a b&x=ñ", decoded),
        )
        == 403
    )


@pytest.mark.parametrize(
    "body",
    ["¿Mañana a las 10? Ñandutí 😀", "1+1=2 y 100% seguro", "a%20b%2Bc", "  espacios  al borde  "],
)
@pytest.mark.parametrize("plus_for_space", [True, False])
def test_form_fields_in_any_encoding_are_validated_over_their_decoded_values(
    db: Engine, client: FlaskClient, body: str, plus_for_space: bool
) -> None:
    fields = form(db, client, body, ProfileName="José Ñu")
    raw = urlencode(fields) if plus_for_space else urlencode(fields, quote_via=quote)
    if not plus_for_space:
        assert "+" not in raw.replace("%2B", "")
    signature = sign(PUBLIC_URL + "/whatsapp/inbound", fields)
    assert post_raw(client, "/whatsapp/inbound", raw, signature) == 200
    tampered = {**fields, "Body": body.strip() or "x"}
    if tampered["Body"] != body:  # whitespace is signed too: never strip before validating
        assert post_raw(client, "/whatsapp/inbound", urlencode(tampered), signature) == 403


def test_repeated_fields_are_all_signed(db: Engine, client: FlaskClient) -> None:
    fields = MultiDict(form(db, client))
    fields.add("Extra", "uno")
    fields.add("Extra", "dos")
    raw = urlencode(list(fields.items(multi=True)))
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        PUBLIC_URL + "/whatsapp/inbound", fields
    )
    assert post_raw(client, "/whatsapp/inbound", raw, signature) == 200
    only_first = dict(fields)  # a signature that saw one of the two values
    assert (
        post_raw(
            client,
            "/whatsapp/inbound",
            raw.replace("Extra=uno", "Extra=tres"),
            sign(PUBLIC_URL + "/whatsapp/inbound", only_first),
        )
        == 403
    )


def test_forwarded_headers_never_change_the_url_that_is_validated(
    db: Engine, client: FlaskClient
) -> None:
    forwarded = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "attacker.example"}
    fields = form(db, client)
    for_attacker = sign("http://attacker.example/whatsapp/inbound", fields)
    assert (
        post_raw(client, "/whatsapp/inbound", urlencode(fields), for_attacker, **forwarded) == 403
    )
    for_us = sign(PUBLIC_URL + "/whatsapp/inbound", fields)
    assert post_raw(client, "/whatsapp/inbound", urlencode(fields), for_us, **forwarded) == 200


def test_the_forwarded_host_is_accepted_only_when_public_base_url_says_so(db: Engine) -> None:
    make_clinic(db)
    client = app_for(db, "https://attacker.example").test_client()
    fields = form(db, client)
    signature = sign("https://attacker.example/whatsapp/inbound", fields)
    assert post_raw(client, "/whatsapp/inbound", urlencode(fields), signature) == 200


@pytest.mark.parametrize(
    "public_base_url",
    [
        "https://turnero.example.org",
        "https://turnero.example.org/",
        "https://turnero.example.org:8443",
        "https://example.org/turnero",  # the proxy strips the prefix
    ],
)
def test_a_tls_terminating_proxy_is_accepted(db: Engine, public_base_url: str) -> None:
    make_clinic(db)
    client = app_for(db, public_base_url).test_client()  # the app itself sees http://localhost
    fields = form(db, client)
    url = public_base_url.rstrip("/") + "/whatsapp/inbound"
    response = client.post(
        "/whatsapp/inbound",
        data=fields,
        base_url="http://127.0.0.1:8000",
        headers={"X-Twilio-Signature": sign(url, fields), "X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 200
    as_seen = sign("http://127.0.0.1:8000/whatsapp/inbound", fields)
    refused = client.post(
        "/whatsapp/inbound",
        data=form(db, client),
        base_url="http://127.0.0.1:8000",
        headers={"X-Twilio-Signature": as_seen},
    )
    assert refused.status_code == 403


def test_status_callbacks_are_validated_the_same_way(db: Engine, client: FlaskClient) -> None:
    fields = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "delivered", "ErrorCode": ""}
    path = "/whatsapp/status?attempt=2"
    good = sign(PUBLIC_URL + path, fields)
    headers = {"X-Forwarded-Host": "attacker.example"}
    assert post_raw(client, path, urlencode(fields), good, **headers) == 204
    bad = sign("https://attacker.example" + path, fields)
    assert post_raw(client, path, urlencode(fields), bad, **headers) == 403


def test_a_server_that_does_not_pass_the_raw_uri_still_validates(
    db: Engine, client: FlaskClient
) -> None:
    fields = form(db, client)
    path = "/whatsapp/inbound?note=a%20b"
    response = client.post(
        path,
        data=fields,
        headers={"X-Twilio-Signature": sign(PUBLIC_URL + path, fields)},
        environ_overrides={"RAW_URI": "", "REQUEST_URI": ""},
    )
    assert response.status_code == 200
