"""Recording that a time became free, in the transaction that freed it, so the waitlist
pass offers it. Every way a slot frees calls `record_freed`: a cancellation or a move
(`store.appointments`), a released waitlist hold (`store.waitlist`), a block-off removed."""

from datetime import datetime

from sqlmodel import Session

from store.models import FreedSlot

CANCELLED = "cancelled"
RESCHEDULED = "rescheduled"
HOLD_RELEASED = "hold_released"
BLOCK_OFF_REMOVED = "block_off_removed"


def record_freed(
    session: Session,
    *,
    clinic_id: int,
    professional_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    why: str,
    now: datetime,
) -> None:
    """A free time from `starts_at` to `ends_at` for one professional (None: everyone at
    the clinic, as a clinic-wide block-off removed). A time already over is not kept."""
    if ends_at <= now:
        return
    session.add(
        FreedSlot(
            clinic_id=clinic_id,
            professional_id=professional_id,
            starts_at=starts_at,
            ends_at=ends_at,
            why=why,
            created_at=now,
        )
    )
