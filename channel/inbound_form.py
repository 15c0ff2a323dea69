"""The form Twilio posts for one inbound WhatsApp message, built for the sandbox's own
callers (the terminal chat, the console's simulator, the benchmarks), which sign it as
Twilio would and post it to the real webhook."""

import uuid


def inbound_form(
    phone: str, clinic_number: str, line: str, account_sid: str, profile: str = "Terminal"
) -> dict[str, str]:
    """The form Twilio posts for one WhatsApp line ("/audio" a voice note, "/tap ID" a
    button)."""
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": account_sid,
        "From": f"whatsapp:{phone}",
        "To": f"whatsapp:{clinic_number}",
        "Body": line,
        "NumMedia": "0",
        "ProfileName": profile,
        "WaId": phone.lstrip("+"),
    }
    if line.startswith("/audio"):
        form.update(
            Body="",
            NumMedia="1",
            MediaContentType0="audio/ogg",
            MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/x/Media/y",
        )
    elif line.startswith("/tap "):
        payload = line.removeprefix("/tap ").strip()
        form.update(
            Body=payload, ButtonPayload=payload, ButtonText=payload, MessageType="interactive"
        )
    return form
