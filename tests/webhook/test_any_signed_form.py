"""Property: whatever a validly signed form carries — text, huge or negative numbers,
unicode, NUL, very long values, unknown fields — the webhook never answers 5xx, every
message it accepts is kept, and its sender is answered (or left to staff, and told so).
Derandomized and bounded, so it runs in seconds and the same way every time."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from store.models import InboundMessage, OutboxMessage
from tests import hostile
from tests.support import CLINIC_NUMBER, PUBLIC_URL, Chat, sign

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("America/Asuncion"))
PHONES = ["+595981222333", "+595981444555", "+14155550100"]
FIELDS = [
    "Body", "NumMedia", "ButtonPayload", "ListId", "OriginalRepliedMessageSid", "Latitude",
    "Longitude", "Address", "Label", "ProfileName", "WaId", "MessageType", "ButtonText",
    "MediaUrl0", "MediaContentType0", "SmsStatus", "NumSegments",
]  # fmt: skip
PREFIXES = ["take:", "pass:", "confirm:", "cancel:", "reschedule:", "score:", ""]

numbers = hostile.numbers(longest=6000)
values = st.one_of(
    st.text(max_size=40),
    numbers,
    st.builds(lambda p, n: p + n, st.sampled_from(PREFIXES), numbers),
    hostile.with_nul(),
    hostile.long_text(shortest=4000),
)
SETTINGS = hostile.BOUNDED


def _post(chat: Chat, path: str, form: dict[str, str]):
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL + path, form)}
    return chat.client.post(path, data=form, headers=headers)


@SETTINGS
@given(
    phone=st.sampled_from(PHONES),
    fields=st.dictionaries(st.sampled_from(FIELDS), values, max_size=6),
    extra=st.dictionaries(st.text(min_size=1, max_size=30), values, max_size=2),
)
def test_any_signed_inbound_is_kept_and_answered(chat: Chat, db, phone, fields, extra):
    sid = "SM" + uuid.uuid4().hex
    form = {
        **extra,
        "MessageSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": f"whatsapp:{phone}",
        "To": f"whatsapp:{CLINIC_NUMBER}",
        **fields,
    }
    response = _post(chat, "/whatsapp/inbound", form)
    assert response.status_code == 200, response.get_data(as_text=True)
    with Session(db) as s:
        kept = s.exec(select(InboundMessage).where(InboundMessage.message_sid == sid)).one()
        replies = s.exec(
            select(OutboxMessage).where(col(OutboxMessage.idempotency_key).startswith(f"reply:{sid}"))
        ).all()
    told = "<Message>" in response.get_data(as_text=True)
    assert replies or told or not kept.handled_by_bot


@SETTINGS
@given(
    sid=values,
    status=st.one_of(values, st.sampled_from(["delivered", "failed", "read", "undelivered"])),
    fields=st.dictionaries(st.sampled_from(["ErrorCode", "ErrorMessage", "To", "From"]), values),
)
def test_any_signed_status_callback_is_never_a_5xx(chat: Chat, db, sid, status, fields):
    form = {"MessageSid": sid, "MessageStatus": status, **fields}
    assert _post(chat, "/whatsapp/status", form).status_code in {204, 400}
