"""A storm of status callbacks — many messages, each status sent several times, shuffled,
posted concurrently by the fake Twilio to the real webhook over HTTP — ends with every
message in its furthest state, one event per (MessageSid, status), and each follow-up of an
error code done once."""

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from scheduler.dispatcher import dispatch_due
from store.db import transaction
from store.models import Clinic
from tests.notification_support import writes
from tests.support import Clock, add_patient
from tests.window_support import approve, events, live, queue_message, rows, unreachable

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
LADDERS: list[tuple[list[str | tuple[str, str]], str, str | None]] = [
    # what Twilio reports, the furthest state, its error code
    (["queued", "sent", "delivered", "read"], "read", None),
    (["sent", "delivered"], "delivered", None),
    (["queued", "sent", ("failed", "30008")], "failed", "30008"),
    (["sent", ("undelivered", "63003")], "undelivered", "63003"),
    (["queued", ("failed", "63016")], "failed", "63016"),
    (["accepted", "queued", "sending", "sent", "delivered"], "delivered", None),
]
MESSAGES = 36
COPIES = 3
THREADS = 12


def test_a_callback_storm_ends_in_the_furthest_states_with_one_event_each(db: Engine) -> None:
    clock = Clock(NOW)
    with transaction(db) as session:
        clinic = Clinic(name="Clínica de prueba", whatsapp_number="+595981000000")
        session.add(clinic)
        session.flush()
        clinic_id = clinic.id or 0
    approve(db, clinic_id)
    phones = [f"+5959810{n:05d}" for n in range(MESSAGES)]
    for n, phone in enumerate(phones):
        add_patient(db, clinic_id, phone, f"Paciente {n}")
        writes(db, clinic_id, phone, NOW - timedelta(hours=1))
        queue_message(
            db,
            clinic_id,
            f"m{n}",
            phone,
            NOW,
            kind="reminder",
            variables={
                "patient_name": f"Paciente {n}",
                "date": "lunes",
                "time": "9:00",
                "professional": "Dra. Ana",
            },
        )

    with live(db, clock) as server:
        assert dispatch_due(db, server.channel, NOW, limit=MESSAGES).sent == MESSAGES
        sids = {r.idempotency_key: r.twilio_sid for r in rows(db)}
        storm: list[tuple[str, str, str | None]] = []
        for n in range(MESSAGES):
            ladder = LADDERS[n % len(LADDERS)][0]
            for item in ladder:
                status, code = (item, None) if isinstance(item, str) else item
                storm.extend([(str(sids[f"m{n}"]), status, code)] * COPIES)
        random.Random(6).shuffle(storm)

        with ThreadPoolExecutor(THREADS) as pool:
            answers = list(pool.map(lambda c: server.fake.post_status(*c), storm))

    assert Counter(a.get("response_status") for a in answers) == {204: len(storm)}
    by_key = {r.idempotency_key: r for r in rows(db)}
    for n in range(MESSAGES):
        _, furthest, code = LADDERS[n % len(LADDERS)]
        message = by_key[f"m{n}"]
        assert (message.status, message.error_code) == (furthest, code), n
    recorded = events(db)
    assert len(recorded) == len({(sid, status) for sid, status, _ in storm})
    assert Counter((sid, status) for sid, status, _ in recorded).most_common(1)[0][1] == 1
    # each follow-up once: one template resend per 63016, flags on the 63003 phones only
    resends = [k for k in by_key if k.endswith(":template")]
    outside = [n for n in range(MESSAGES) if LADDERS[n % len(LADDERS)][2] == "63016"]
    assert sorted(resends) == sorted(f"m{n}:template" for n in outside)
    for n, phone in enumerate(phones):
        invalid = LADDERS[n % len(LADDERS)][2] == "63003"
        assert unreachable(db, clinic_id, phone) == ({"invalid"} if invalid else {None}), n
