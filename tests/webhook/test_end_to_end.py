"""The whole path on real parts: a signed inbound message, the reply sent by the worker's
dispatcher through the official twilio client to the fake Twilio, and Twilio's signed
status callbacks coming back to the webhook."""

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select
from werkzeug.serving import make_server

from channel.twilio import make_channel
from config.settings import Settings
from scheduler.dispatcher import dispatch_due
from store.models import MessageStatusEvent, OutboxMessage
from tests.support import CLINIC_NUMBER, Chat, make_clinic, sign
from turnero.fake_twilio import FakeTwilio
from webhook import create_app


def test_a_reply_travels_to_twilio_and_its_delivery_comes_back(db: Engine):
    make_clinic(db)
    with FakeTwilio(send_callbacks=True) as fake:
        app = create_app(
            Settings(
                database_url=str(db.url),
                twilio_account_sid=fake.account_sid,
                twilio_auth_token=fake.auth_token,
                twilio_api_url=fake.url,
                secret_key="e2e-secret",
            ),
            engine=db,
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        app.extensions["turnero"]["settings"].public_base_url = base
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            patient = Chat(app.test_client(), db)
            form = patient.form("hola")
            response = app.test_client().post(
                "/whatsapp/inbound",
                data=form,
                headers={
                    "X-Twilio-Signature": sign(base + "/whatsapp/inbound", form, fake.auth_token)
                },
            )
            assert response.status_code == 200
            channel = make_channel(
                fake.account_sid, fake.auth_token, fake.url, base + "/whatsapp/status"
            )
            report = dispatch_due(db, channel, datetime.now(UTC))
            assert report.sent == 1
            fake.wait_for_callbacks()
        finally:
            server.shutdown()
    [sent] = fake.messages
    assert (sent["to"], sent["from"]) == (f"whatsapp:{patient.phone}", f"whatsapp:{CLINIC_NUMBER}")
    assert "Clínica Test" in sent["body"]
    assert [c["response_status"] for c in fake.callbacks] == [204, 204]
    with Session(db) as session:
        row = session.exec(select(OutboxMessage)).one()
        assert (row.twilio_sid, row.status) == (sent["sid"], "delivered")
        statuses = {e.status for e in session.exec(select(MessageStatusEvent))}
        assert statuses == {"sent", "delivered"}


def test_a_status_callback_with_a_bad_signature_is_refused(db: Engine):
    app = create_app(
        Settings(
            database_url=str(db.url),
            twilio_account_sid="AC" + "2" * 32,
            twilio_auth_token="token",
            secret_key="x",
            public_base_url="https://t.example",
        ),
        engine=db,
    )
    form = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered"}
    client = app.test_client()
    assert (
        client.post(
            "/whatsapp/status", data=form, headers={"X-Twilio-Signature": "nope"}
        ).status_code
        == 403
    )
    good = sign("https://t.example/whatsapp/status", form, "token")
    assert (
        client.post("/whatsapp/status", data=form, headers={"X-Twilio-Signature": good}).status_code
        == 204
    )
    incomplete = {"MessageSid": "SM" + "a" * 32}
    signed = sign("https://t.example/whatsapp/status", incomplete, "token")
    assert (
        client.post(
            "/whatsapp/status", data=incomplete, headers={"X-Twilio-Signature": signed}
        ).status_code
        == 400
    )


def test_production_refuses_placeholder_secrets():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(
            turnero_env="production",
            secret_key="changeme",
            twilio_account_sid="AC1",
            twilio_auth_token="t",
        )
    with pytest.raises(ValidationError, match="TWILIO"):
        Settings(turnero_env="production", secret_key="a-real-long-secret")
    assert not Settings(
        turnero_env="production",
        secret_key="a-real-long-secret",
        twilio_account_sid="AC1",
        twilio_auth_token="t",
        admin_api_token="a-real-admin-api-token",
    ).sandbox


def test_the_system_zone_data_version_is_read(tmp_path):
    from config.tzcheck import system_tzdata_version

    (tmp_path / "tzdata.zi").write_text("# version 2023c\n# more\n")
    assert system_tzdata_version((str(tmp_path),)) == "2023c"
    assert system_tzdata_version(("/nonexistent",)) is None
