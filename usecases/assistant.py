"""What an assistant of another channel (a Rasa assistant on the clinic's website, app or
phone line) may do over the same agenda: read the catalog and free times, check each answer
as the WhatsApp flow does, book under the database's overlap rule, and look up, confirm,
cancel or move an appointment by its code and phone. Every answer is rendered here, in the
reader's language, from the bot's own templates."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time

from sqlalchemy import Engine
from sqlmodel import Session

from bot.questions import (
    NAME_LIMIT,
    READINGS,
    TEXT_LIMIT,
    day_options,
    is_open,
    time_option_id,
    time_options,
)
from bot.render import render_all
from bot.text import MAX_READ, match_choice, option_number
from bot.types import (
    BookingDraft,
    ClinicView,
    Label,
    Option,
    ProfessionalInfo,
    Reply,
    ServiceInfo,
)
from bot.vocabulary import words_any
from bot.when import When, read_when
from channel.phones import e164, region_of
from store.appointment_info import appointment_info
from store.appointments import Actor, NotChangeable, by_code, cancel, confirm, reschedule
from store.booking import SlotTaken
from store.db import reading, transaction
from store.desk_booking import ForPhone, book_for_phone
from store.models import Appointment, Clinic, Service
from usecases.clinic_view import Catalog, CatalogCache, build_view

CHANNEL = "rasa"  # an appointment's `source_channel`, and the channel of its history
PATIENT = Actor("patient", CHANNEL)
ANY = "any"  # the professional of "first available"
PHONE_LIMIT = 40
DEFAULT_LANGUAGE = "es"  # where no clinic is known


@dataclass(frozen=True)
class Said:
    """An action's answer: the text to say (empty: nothing), and the values it settled,
    by the form field they fill (None: the field is asked again)."""

    text: str = ""
    values: dict[str, object] = field(default_factory=dict)
    ok: bool = True
    language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Booking:
    """A booking form's answers, as checked (`Agenda.check`)."""

    service: str
    time: str  # an offered time's id: "<UTC start ISO>|<professional id>"
    name: str
    phone: str
    dni: str | None = None
    insurance: str | None = None
    professional: str = ANY  # the one chosen, for the times offered if this one is lost


time_id = time_option_id  # an offered time as one value, as the WhatsApp bot writes it
MAX_ID_DIGITS = 9  # a database id; anything longer is no id of ours


def read_time_id(value: object) -> tuple[datetime, int] | None:
    """The start and professional of an offered time's id, or None for anything else."""
    start, _, professional = str(value)[:80].partition("|")
    try:
        moment = datetime.fromisoformat(start)
    except ValueError:
        return None
    if moment.tzinfo is None or not professional.isdigit() or len(professional) > MAX_ID_DIGITS:
        return None
    return moment, int(professional)


class Agenda:
    """The agenda of every clinic of the database, as an assistant sees it. `clock` gives
    the time, `link_for` an appointment's self-service link; each call is one short read or
    one transaction."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        link_for: Callable[[int], str],
        catalogs: CatalogCache | None = None,
    ) -> None:
        self.engine, self.clock, self.link_for = engine, clock, link_for
        self.catalogs = catalogs or CatalogCache()
        self._numbers: dict[int, str] = {}

    def default_language(self, clinic_id: int | None) -> str:
        """The language of a clinic's patients unless they say otherwise."""
        with reading(self.engine) as session:
            found = self._view(session, clinic_id)
        return found[0].clinic.default_language if found else DEFAULT_LANGUAGE

    # -- the catalog ---------------------------------------------------------------------

    def services(self, clinic_id: int | None, language: str) -> Said:
        return self._read(
            clinic_id,
            language,
            lambda catalog, view: _say(catalog, language, _services_reply(catalog, view)),
        )

    def professionals(self, clinic_id: int | None, service: object, language: str) -> Said:
        def answer(catalog: Catalog, view: ClinicView) -> Said:
            chosen = _service(view, service)
            if chosen is None:
                return _say(catalog, language, *_unknown(_services_reply(catalog, view)), ok=False)
            options = tuple(Option(str(p.id), label=p.name) for p in _offering(view, chosen))
            reply = Reply("assistant.professionals", {"service": chosen.name}, options)
            return _say(catalog, language, reply, values={"service": str(chosen.id)})

        return self._read(clinic_id, language, answer)

    # -- free times ----------------------------------------------------------------------

    def find_times(
        self,
        clinic_id: int | None,
        service: object,
        professional: object,
        said: str,
        language: str,
        otherwise: str = "",
    ) -> Said:
        """The free times of the day `said` names in free text ("el martes a la tarde",
        "ko'ẽrõ"), or else `otherwise` names (the day asked before), or else the first day
        with space — read as the WhatsApp bot reads it. Settles `day` and the `times`
        offered; a day it cannot offer is answered with the bot's own texts (past, beyond
        the horizon, full: the nearest days with space)."""

        def answer(catalog: Catalog, view: ClinicView) -> Said:
            today = view.clinic.rules.local_date(view.now)
            says = _iso_day(said) or read_when(said[:MAX_READ], today)
            day = said if says else otherwise
            return self._times(catalog, view, service, professional, day, language)

        return self._read(clinic_id, language, answer)

    def _times(
        self,
        catalog: Catalog,
        view: ClinicView,
        service: object,
        professional: object,
        said: str,
        language: str,
    ) -> Said:
        chosen = _service(view, service)
        if chosen is None:
            return _say(catalog, language, *_unknown(_services_reply(catalog, view)), ok=False)
        draft = BookingDraft(
            service=chosen.id, professional=_professional(view, chosen, professional)
        )
        rules, today = view.clinic.rules, view.clinic.rules.local_date(view.now)
        when = _iso_day(str(said)) or read_when(str(said)[:MAX_READ], today)
        draft.part = when.part
        if when.ambiguous:
            options = tuple(Option(d.isoformat(), day=d) for d in when.days)
            return _say(catalog, language, Reply("booking.which_day", {}, options), ok=False)
        day = when.days[0] if when.days else None
        if day is not None and day < today:
            return _say(catalog, language, Reply("booking.date_past", {"date": day}), ok=False)
        if day is not None and day > rules.last_day(view.now):
            reply = Reply("booking.date_beyond_horizon", {"horizon_days": rules.horizon_days})
            return _say(catalog, language, reply, ok=False)
        if day is None or when.week:  # no day said, or a week: its first day with space
            first = day_options(view, draft, day)
            if not first:
                tags = {"service": chosen.name, "horizon_days": rules.horizon_days}
                return _say(catalog, language, Reply("booking.no_days", tags), ok=False)
            day = first[0].day or today
        draft.day = day.isoformat()
        offered = time_options(view, draft)
        replies: list[Reply] = []
        if when.time is not None:
            at = [o for o in offered if o.moment and o.moment.time() == when.time]
            if at:
                offered = at
            else:
                replies.append(Reply("booking.time_unavailable", {"time": _hhmm(when.time)}))
        if not offered and draft.part and time_options(view, draft, in_part=False):
            replies.append(Reply("booking.part_full", {"date": day, "part": _part(draft.part)}))
            draft.part = None
            offered = time_options(view, draft)
        if not offered:
            nearest = tuple(day_options(view, draft, day))
            said = "booking.day_full" if is_open(view, draft, day) else "booking.day_closed"
            reply = Reply(said, {"date": day}, nearest)
            return _say(catalog, language, *replies, reply, ok=False)
        tags = {"service": chosen.name, "date": day}
        replies.append(Reply("assistant.times", tags, tuple(offered)))
        values = {
            "service": str(chosen.id),
            "day": day.isoformat(),
            "times": [o.id for o in offered],
        }
        return _say(catalog, language, *replies, values=values)

    # -- the booking form, one answer at a time ------------------------------------------

    def check(
        self,
        clinic_id: int | None,
        name: str,
        value: object,
        form: dict[str, object],
        language: str,
    ) -> Said:
        """One answer of the booking form checked as the WhatsApp flow checks it: the
        value to keep (by field) or None with the bot's own error text. `form` holds the
        answers so far (the time is read against the service, professional and day)."""
        return self._read(
            clinic_id,
            language,
            lambda catalog, view: self._check(catalog, view, name, value, form, language),
        )

    def _check(
        self,
        catalog: Catalog,
        view: ClinicView,
        name: str,
        value: object,
        form: dict[str, object],
        language: str,
    ) -> Said:
        said = str(value if value is not None else "")[:MAX_READ].strip()
        if name == "service":
            chosen = _service(view, said)
            if chosen is None:
                replies = _unknown(_services_reply(catalog, view))
                return _say(catalog, language, *replies, values={name: None}, ok=False)
            return Said(values={name: str(chosen.id)})
        if name == "professional":
            return self._check_professional(catalog, view, form.get("service"), said, language)
        if name == "day":
            times = self._times(
                catalog, view, form.get("service"), form.get("professional"), said, language
            )
            return times if times.ok else replace(times, values={"day": None})
        if name == "time":
            return self._check_time(catalog, view, form, said, language)
        if name == "phone":
            phone = _phone(catalog, said)
            if phone is None:
                reply = Reply("assistant.phone_invalid")
                return _say(catalog, language, reply, values={name: None}, ok=False)
            return Said(values={name: phone})
        return _check_text(catalog, name, said, language)

    def _check_professional(
        self, catalog: Catalog, view: ClinicView, service: object, said: str, language: str
    ) -> Said:
        chosen = _service(view, service)
        if chosen is None:
            return _say(catalog, language, *_unknown(_services_reply(catalog, view)), ok=False)
        offering = _offering(view, chosen)
        if said == ANY or said in words_any("anyone") or said in words_any("soonest"):
            return Said(values={"professional": ANY})
        if any(str(p.id) == said for p in offering):
            return Said(values={"professional": said})
        index = option_number(said, len(offering))
        index = index if index is not None else match_choice(said, [p.name for p in offering])
        if index is not None:
            return Said(values={"professional": str(offering[index].id)})
        options = tuple(Option(str(p.id), label=p.name) for p in offering)
        reply = Reply("assistant.professionals", {"service": chosen.name}, options)
        return _say(catalog, language, *_unknown(reply), values={"professional": None}, ok=False)

    def _check_time(
        self, catalog: Catalog, view: ClinicView, form: dict[str, object], said: str, language: str
    ) -> Said:
        """A time offered (its id, its number in the list, or the time written), taken
        once its one slot is checked again."""
        offered = [str(t) for t in form.get("times") or [] if isinstance(t, str)]  # type: ignore[attr-defined]
        picked = said if said in offered else None
        index = option_number(said, len(offered)) if picked is None else None
        if index is not None:
            picked = offered[index]
        if picked is None:
            wanted = read_when(
                said, view.clinic.rules.local_date(view.now), bare_number_is_time=True
            ).time
            tz = view.clinic.rules.timezone
            for candidate in offered:
                moment = read_time_id(candidate)
                if wanted is not None and moment and moment[0].astimezone(tz).time() == wanted:
                    picked = candidate
                    break
        chosen = _service(view, form.get("service"))
        start = read_time_id(picked) if picked else None
        if (
            chosen is not None
            and start is not None
            and view.availability.is_free(chosen, start[1], start[0])
        ):
            return Said(values={"time": picked})
        again = self._times(
            catalog,
            view,
            form.get("service"),
            form.get("professional"),
            str(form.get("day") or ""),
            language,
        )
        first = "booking.slot_taken" if start is not None else "booking.not_understood"
        return _then(_say(catalog, language, Reply(first)), again)

    # -- booking -------------------------------------------------------------------------

    def book(self, clinic_id: int | None, booking: Booking, language: str) -> Said:
        """Book the time under the database's overlap rule: the appointment (channel
        `rasa`), its code and self-service link; the patient's WhatsApp gets the booking
        confirmation and the reminders as the clinic's rules say. A time taken meanwhile
        books nothing and is answered with the times still free, read after it lost."""
        now = self.clock()
        with transaction(self.engine) as session:
            found = self._view(session, clinic_id)
            if found is None:
                return _no_clinic(language)
            catalog, view = found
            answers = {"name": booking.name, "phone": booking.phone, "service": booking.service}
            for name, value in answers.items():
                checked = self._check(catalog, view, name, value, {}, language)
                if not checked.ok:
                    return checked
                answers[name] = str(checked.values[name])
            if read_time_id(booking.time) is None:
                reply = Reply("booking.not_understood")
                return _say(catalog, language, reply, values={"time": None}, ok=False)
            booking = replace(booking, phone=answers["phone"], service=answers["service"])
            appointment = self._booked(session, catalog, view, booking, language, now)
            if appointment is not None:
                info = appointment_info(session, appointment)
                tags = info.tags(self.link_for(appointment.id or 0))
                reply = Reply("assistant.booked", tags)
                values = {"code": appointment.code, "link": tags["link"]}
                return _say(catalog, language, reply, values=values)
        taken = Said(render_all([Reply("booking.slot_taken")], language), language=language)
        return self._taken(clinic_id, taken, booking.service, booking.professional, booking.time)

    def _booked(
        self,
        session: Session,
        catalog: Catalog,
        view: ClinicView,
        booking: Booking,
        language: str,
        now: datetime,
    ) -> Appointment | None:
        service = _service(view, booking.service)
        start = read_time_id(booking.time)
        if service is None or start is None:
            return None
        starts_at, professional_id = start
        if not view.availability.is_free(service, professional_id, starts_at):
            return None
        clinic = session.get(Clinic, catalog.info.id)
        row = session.get(Service, service.id)
        if clinic is None or row is None:
            return None
        who = ForPhone(booking.phone, booking.name, language, booking.dni, booking.insurance)
        try:
            appointment = book_for_phone(
                session,
                clinic,
                who,
                service=row,
                professional_id=professional_id,
                starts_at=starts_at,
                channel=CHANNEL,
                actor=PATIENT,
                now=now,
            )
        except SlotTaken:
            return None
        return appointment

    def _taken(
        self,
        clinic_id: int | None,
        first: Said,
        service: object,
        professional: object,
        time_id_: str,
    ) -> Said:
        """`first`, then the times still free on the day of the time lost, read anew."""
        start = read_time_id(time_id_)
        with reading(self.engine) as session:
            found = self._view(session, clinic_id)
            if found is None:
                return first
            catalog, view = found
            day = view.clinic.rules.local_date(start[0]).isoformat() if start else ""
            again = self._times(catalog, view, service, professional, day, first.language)
        return _then(first, again)

    # -- an appointment by its code ------------------------------------------------------

    def look_up(self, clinic_id: int | None, code: str, phone: str, language: str) -> Said:
        return self._change(clinic_id, code, phone, language, None)

    def confirm(self, clinic_id: int | None, code: str, phone: str, language: str) -> Said:
        return self._change(clinic_id, code, phone, language, _confirm)

    def cancel(self, clinic_id: int | None, code: str, phone: str, language: str) -> Said:
        return self._change(clinic_id, code, phone, language, _cancel)

    def reschedule(
        self, clinic_id: int | None, code: str, phone: str, time_offered: str, language: str
    ) -> Said:
        """Move the appointment to an offered time; one taken meanwhile changes nothing
        and the times still free of that day are offered."""

        def move(session: Session, view: ClinicView, appointment: Appointment) -> str:
            start = read_time_id(time_offered)
            service = view.service(appointment.service_id)
            if start is None or service is None:
                raise SlotTaken
            if not view.availability.is_free(service, start[1], start[0]):
                raise SlotTaken
            reschedule(
                session,
                appointment,
                starts_at=start[0],
                professional_id=start[1],
                actor=PATIENT,
                now=view.now,
            )
            return "manage.moved"

        said = self._change(clinic_id, code, phone, language, move)
        if said.values.pop("taken", None):
            service = said.values.get("service")
            return self._taken(clinic_id, said, service, ANY, time_offered)
        return said

    def _change(
        self,
        clinic_id: int | None,
        code: str,
        phone: str,
        language: str,
        change: Callable[[Session, ClinicView, Appointment], str] | None,
    ) -> Said:
        with transaction(self.engine) as session:
            found = self._view(session, clinic_id)
            if found is None:
                return _no_clinic(language)
            catalog, view = found
            number = _phone(catalog, str(phone))
            appointment = (
                by_code(session, catalog.info.id, number, str(code)[:TEXT_LIMIT])
                if number
                else None
            )
            if appointment is None:
                return _say(catalog, language, Reply("assistant.not_found"), ok=False)
            info = appointment_info(session, appointment)
            tags = {
                **info.tags(self.link_for(appointment.id or 0)),
                "appointment_date": info.local_day,
                "appointment_time": info.local_start,
            }
            values: dict[str, object] = {
                "code": appointment.code,
                "service": str(appointment.service_id),
            }
            if change is None:
                return _say(catalog, language, Reply("assistant.appointment", tags), values=values)
            try:
                with session.begin_nested():
                    template = change(session, view, appointment)
            except NotChangeable:
                return _say(catalog, language, Reply("manage.unchangeable", tags), ok=False)
            except SlotTaken:
                return _say(
                    catalog,
                    language,
                    Reply("booking.slot_taken"),
                    values={**values, "taken": True},
                    ok=False,
                )
            tags = {
                **tags,
                **appointment_info(session, appointment).tags(self.link_for(appointment.id or 0)),
            }
            return _say(catalog, language, Reply(template, tags), values=values)

    # -- reading the clinic --------------------------------------------------------------

    def _read(
        self, clinic_id: int | None, language: str, answer: Callable[[Catalog, ClinicView], Said]
    ) -> Said:
        """`answer` given the clinic's catalog and a view of it, in one read."""
        with reading(self.engine) as session:
            found = self._view(session, clinic_id)
            return answer(*found) if found is not None else _no_clinic(language)

    def _view(self, session: Session, clinic_id: int | None) -> tuple[Catalog, ClinicView] | None:
        """The clinic's cached catalog and a view of it at the clock's time."""
        if clinic_id is None:
            return None
        number = self._numbers.get(clinic_id)
        if number is None:
            clinic = session.get(Clinic, clinic_id)
            if clinic is None:
                return None
            number = self._numbers[clinic_id] = clinic.whatsapp_number
        catalog = self.catalogs.get(session, number)
        if catalog is None:
            return None
        return catalog, build_view(session, catalog, "", [], self.clock())


# -- helpers -----------------------------------------------------------------------------

# The form's free-text answers, each read by the WhatsApp flow's own kind (bot.questions).
TEXT_FIELDS = {"name": ("name", NAME_LIMIT), "dni": ("optional_text", TEXT_LIMIT)}
TEXT_FIELDS["insurance"] = TEXT_FIELDS["dni"]


def _check_text(catalog: Catalog, name: str, said: str, language: str) -> Said:
    """A name, DNI or insurance read as the WhatsApp flow reads it: skip words leave an
    optional one blank (""), a name may bring the DNI after it, and a value the flow would
    refuse is answered with its text."""
    kind, limit = TEXT_FIELDS.get(name, ("optional_text", TEXT_LIMIT))
    reading_ = READINGS[kind]
    if reading_.blank(said):
        return Said(values={name: ""})
    values: dict[str, object] = {}
    if reading_.also_gives is not None:
        said, ahead = reading_.also_gives(said)
        values.update({k: v for k, v in ahead.items() if k in TEXT_FIELDS})
    if not said or not reading_.valid(said) or len(said) > limit:
        reply = Reply(reading_.invalid or "booking.not_understood")
        return _say(catalog, language, reply, values={name: None}, ok=False)
    return Said(values={name: said, **values})


def _no_clinic(language: str) -> Said:
    return Said(
        render_all([Reply("system.assistant_no_clinic")], language), ok=False, language=language
    )


def _say(
    catalog: Catalog,
    language: str,
    *replies: Reply,
    values: Mapping[str, object] | None = None,
    ok: bool = True,
) -> Said:
    """The replies in the reader's language, the clinic's own texts winning."""
    text = render_all(list(replies), language, catalog.own_texts(language))
    return Said(text, dict(values or {}), ok, language)


def _then(first: Said, again: Said) -> Said:
    """A refusal followed by the times offered again (their list kept for the next
    answer); the time is asked again."""
    times = {k: v for k, v in again.values.items() if k == "times"}
    return Said(
        f"{first.text}\n\n{again.text}",
        {**first.values, "time": None, **times},
        False,
        first.language,
    )


def _services_reply(catalog: Catalog, view: ClinicView) -> Reply:
    if not view.services:
        tags = {"clinic_name": catalog.clinic.name, "clinic_phone": catalog.clinic.phone or ""}
        return Reply("assistant.no_services", tags)
    return Reply(
        "assistant.services", {}, tuple(Option(str(s.id), label=s.name) for s in view.services)
    )


def _unknown(again: Reply) -> tuple[Reply, Reply]:
    """An answer not understood, then the question's choices again."""
    return Reply("booking.not_understood"), again


def _service(view: ClinicView, said: object) -> ServiceInfo | None:
    """A self-bookable service by its id, its number in the list or its name."""
    value = str(said or "")[:MAX_READ].strip()
    by_id = next((s for s in view.services if str(s.id) == value), None)
    if by_id is not None or not value:
        return by_id
    index = option_number(value, len(view.services))
    index = index if index is not None else match_choice(value, [s.name for s in view.services])
    return view.services[index] if index is not None else None


def _offering(view: ClinicView, service: ServiceInfo) -> list[ProfessionalInfo]:
    return [p for p in view.professionals if service.id in p.service_ids]


def _professional(view: ClinicView, service: ServiceInfo, said: object) -> int | None:
    """The professional chosen, if they offer the service; None: anyone."""
    value = str(said or "")
    return next((p.id for p in _offering(view, service) if str(p.id) == value), None)


def _phone(catalog: Catalog, said: str) -> str | None:
    """A mobile as patients write it, in E.164, read in the clinic's country."""
    return e164(said[:PHONE_LIMIT], region_of(catalog.clinic.whatsapp_number))


def _iso_day(said: str) -> When | None:
    """A day as this server writes it in the `day` slot (ISO), read back as such."""
    try:
        return When(days=(date.fromisoformat(said.strip()),)) if len(said) == 10 else None
    except ValueError:
        return None


def _hhmm(wanted: time) -> str:
    return wanted.strftime("%H:%M")


def _part(part: str) -> Label:
    return Label(f"labels.part_{part}")


def _confirm(session: Session, view: ClinicView, appointment: Appointment) -> str:
    changed = confirm(session, appointment, PATIENT, view.now)
    return "manage.confirmed" if changed else "manage.already_confirmed"


def _cancel(session: Session, view: ClinicView, appointment: Appointment) -> str:
    cancel(session, appointment, PATIENT, view.now)
    return "assistant.cancelled"
