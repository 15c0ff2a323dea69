"""The settings screens (admins): each section saves good values to the store, with who
changed them in the history, refuses bad ones with a 422 page that marks the field, and
is closed to the front desk; a change made there reaches the bot."""

import json
from datetime import time

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from store.models import (
    Branch,
    Clinic,
    NotificationRule,
    NotificationRuleChange,
    Professional,
    ProfessionalService,
    Service,
    WorkingHours,
)
from store.weekly_hours import Interval, week_problems
from tests.console_support import Desk, add_staff
from tests.settings_support import form_of, save
from tests.support import Chat, catalog_ticks, make_app, make_clinic

SCRIPT = "<script>alert(1)</script>"


def the_clinic(db: Engine, clinic_id: int) -> Clinic:
    with Session(db) as session:
        found = session.get(Clinic, clinic_id)
        assert found is not None
        return found


def settings_changes(db: Engine) -> list[NotificationRuleChange]:
    with Session(db) as session:
        query = select(NotificationRuleChange).where(NotificationRuleChange.rule_id == 0)
        return list(session.exec(query.order_by(col(NotificationRuleChange.id))))


def refused(response, *fields: str) -> str:
    """A 422 page that marks each of `fields`; its text."""
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    for field in fields:
        assert f'aria-describedby="e-{field}' in page, field
        assert f'id="e-{field}"' in page, field
    assert "Revisá los datos marcados." in page
    return page


def test_the_settings_home_links_every_section_and_the_block_offs(admin: Desk):
    page = admin.open("/console/settings").get_data(as_text=True)
    for path in [
        "/console/settings/clinic",
        "/console/settings/branches",
        "/console/settings/services",
        "/console/settings/professionals",
        "/console/block-offs",
        "/console/settings/reminders",
        "/console/settings/automations",
        "/console/settings/rules",
    ]:
        assert f'href="{path}"' in page
    assert "llegan al bot de WhatsApp en un segundo" in page
    assert 'href="/console/settings" aria-current="page"' in page


def test_the_clinic_profile_and_booking_rules_are_saved_and_recorded(db, admin, clinic):
    page = admin.open("/console/settings/clinic").get_data(as_text=True)
    assert page.index("America/Asuncion") < page.index("Europe/Madrid")  # America first
    response = save(
        admin,
        "/console/settings/clinic",
        {
            "name": "Clínica San Roque",
            "email": "turnos@sanroque.example",
            "timezone": "America/Argentina/Buenos_Aires",
            "default_language": "gn",
            "min_notice_minutes": "30",
            "horizon_days": "90",
        },
    )
    assert response.status_code == 303
    assert response.location == "/console/settings/clinic?notice=saved"
    found = the_clinic(db, clinic.id)
    assert (found.name, found.email, found.timezone, found.default_language) == (
        "Clínica San Roque",
        "turnos@sanroque.example",
        "America/Argentina/Buenos_Aires",
        "gn",
    )
    assert (found.min_notice_minutes, found.horizon_days, found.slot_step_minutes) == (30, 90, 30)
    [change] = settings_changes(db)
    assert change.changed_by == "staff:boss@clinica.example" and change.action == "settings"
    assert json.loads(change.before or "")["min_notice_minutes"] == 60
    assert json.loads(change.after or "")["timezone"] == "America/Argentina/Buenos_Aires"
    assert "slot_step_minutes" not in json.loads(change.after or "")  # only what changed
    assert save(admin, "/console/settings/clinic", {}).status_code == 303
    assert len(settings_changes(db)) == 1  # nothing changed, nothing recorded


def test_bad_clinic_settings_are_refused_with_the_fields_marked(db, admin, clinic):
    response = save(
        admin,
        "/console/settings/clinic",
        {
            "name": "",
            "timezone": "Mars/Olympus_Mons",
            "email": "not an address",
            "min_notice_minutes": "-5",
            "horizon_days": "lots",
            "default_language": "fr",
        },
    )
    page = refused(response, "name", "timezone", "email", "min_notice_minutes", "horizon_days")
    assert "Elegí una zona horaria de la lista." in page
    assert "Está fuera del rango permitido." in page
    assert "Escribí un número entero." in page
    assert "Elegí un idioma de la lista." in page
    assert 'value="not an address"' in page  # what was typed is shown again
    found = the_clinic(db, clinic.id)
    assert (found.timezone, found.min_notice_minutes) == ("America/Asuncion", 60)
    assert settings_changes(db) == []
    too_long = save(admin, "/console/settings/clinic", {"address": "x" * 5000})
    refused(too_long, "address")


def test_reminder_times_go_through_the_rules_history(db, admin, clinic):
    response = save(
        admin, "/console/settings/reminders", {"hours_before": "", "day_before_at": "18:30"}
    )
    assert response.status_code == 303
    found = the_clinic(db, clinic.id)
    assert (found.reminder_hours_before, found.reminder_day_before_at) == (None, time(18, 30))
    [change] = settings_changes(db)
    assert json.loads(change.after or "") == {"hours_before": None, "day_before_at": "18:30"}
    page = admin.open("/console/settings/reminders").get_data(as_text=True)
    assert 'value="18:30"' in page
    for bad, field in [
        ({"day_before_at": "7pm"}, "day_before_at"),
        ({"day_before_at": "24:00"}, "day_before_at"),
        ({"hours_before": "0"}, "hours_before"),
        ({"hours_before": "-3"}, "hours_before"),
    ]:
        refused(save(admin, "/console/settings/reminders", bad), field)
    assert the_clinic(db, clinic.id).reminder_day_before_at == time(18, 30)


def test_automations_are_saved_and_bad_values_refused(db, admin, clinic):
    response = save(
        admin,
        "/console/settings/automations",
        {
            "interactive_messages": "on",
            "waitlist_hold_minutes": "20",
            "waitlist_offers_per_day": "2",
            "auto_no_show_at": "20:00",
            "no_show_followup_hours": "3, 24",
            "recovery_days": "45",
            "care_enabled": None,  # unticked: no care message
            "survey_enabled": "on",
            "survey_delay_minutes": "30",
            "bot_resume_after_minutes": "0",
        },
    )
    assert response.status_code == 303
    found = the_clinic(db, clinic.id)
    assert found.interactive_messages and found.survey_enabled
    assert (found.waitlist_hold_minutes, found.waitlist_offers_per_day) == (20, 2)
    assert (found.auto_no_show_at, found.no_show_followup_hours) == (time(20), "3,24")
    assert (found.recovery_days, found.care_delay_minutes) == (45, None)
    assert (found.survey_delay_minutes, found.bot_resume_after_minutes) == (30, 0)
    assert save(admin, "/console/settings/automations", {"care_enabled": "on"}).status_code == 303
    assert the_clinic(db, clinic.id).care_delay_minutes == 120
    page = refused(
        save(
            admin,
            "/console/settings/automations",
            {
                "no_show_followup_hours": "24,2",
                "waitlist_hold_minutes": "-1",
                "auto_no_show_at": "8pm",
                "care_delay_minutes": "soon",
                "waitlist_offers_per_day": "1,5",
            },
        ),
        "no_show_followup_hours",
        "waitlist_hold_minutes",
        "auto_no_show_at",
        "care_delay_minutes",
        "waitlist_offers_per_day",
    )
    assert "Escribí la hora como HH:MM" in page
    refused(
        save(admin, "/console/settings/automations", {"no_show_followup_hours": "1,2,3,4"}),
        "no_show_followup_hours",
    )
    assert the_clinic(db, clinic.id).no_show_followup_hours == "3,24"


def test_branches_are_added_edited_and_closed(db, admin, clinic):
    response = save(
        admin, "/console/settings/branches/new", {"name": "Sede Centro", "address": "Palma 1"}
    )
    assert response.status_code == 303
    with Session(db) as session:
        branch = session.exec(select(Branch)).one()
    assert (branch.name, branch.address, branch.active) == ("Sede Centro", "Palma 1", True)
    assert response.location == f"/console/settings/branches/{branch.id}?notice=saved"
    path = f"/console/settings/branches/{branch.id}"
    assert save(admin, path, {"active": None, "name": "Sede Norte"}).status_code == 303
    with Session(db) as session:
        branch = session.exec(select(Branch)).one()
    assert (branch.name, branch.active) == ("Sede Norte", False)
    listing = admin.open("/console/settings/branches").get_data(as_text=True)
    assert "Sede Norte" in listing and "inactivo" in listing
    refused(save(admin, path, {"name": "  "}), "name")
    refused(save(admin, "/console/settings/branches/new", {"name": ""}), "name")
    assert admin.open("/console/settings/branches/999").status_code == 404


def test_services_are_added_and_edited_and_bad_ones_refused(db, admin, clinic):
    response = save(
        admin,
        "/console/settings/services/new",
        {
            "name": "Ecografía",
            "duration_minutes": "40",
            "self_bookable": None,
            "care_template": "automations.care_lab",
        },
    )
    assert response.status_code == 303
    with Session(db) as session:
        made = session.exec(select(Service).where(Service.name == "Ecografía")).one()
    assert (made.duration_minutes, made.self_bookable, made.active) == (40, False, True)
    assert made.care_template == "automations.care_lab"
    path = f"/console/settings/services/{clinic.services['general']}"
    response = save(admin, path, {"duration_minutes": "20", "active": None, "care_template": ""})
    assert response.status_code == 303
    with Session(db) as session:
        general = session.get(Service, clinic.services["general"])
    assert (general.duration_minutes, general.active, general.care_template) == (20, False, None)
    refused(save(admin, path, {"duration_minutes": "0"}), "duration_minutes")
    refused(save(admin, path, {"duration_minutes": "veinte"}), "duration_minutes")
    refused(save(admin, path, {"care_template": "booking.ask_service"}), "care_template")
    refused(save(admin, path, {"name": "x" * 101}), "name")
    with Session(db) as session:
        assert session.get(Service, clinic.services["general"]).duration_minutes == 20


def test_professionals_get_services_and_a_week_with_several_intervals(db, admin, clinic):
    ana = clinic.professionals["ana"]
    path = f"/console/settings/professionals/{ana}"
    form = form_of(admin.open(path).get_data(as_text=True), path)
    assert (form["hours-0-0-start"], form["hours-0-0-end"]) == ("08:00", "12:00")
    assert (form["hours-0-1-start"], form["hours-0-1-end"]) == ("14:00", "18:00")
    assert form["hours-5-0-start"] == ""  # Saturday: nothing yet, blank rows to fill
    response = save(
        admin,
        path,
        {
            "services": [str(clinic.services["general"]), str(clinic.services["dentistry"])],
            "hours-5-0-start": "09:00",
            "hours-5-0-end": "11:00",
            "hours-5-1-start": "11:30",
            "hours-5-1-end": "13:00",
            "hours-4-1-start": "",  # Friday afternoon removed
            "hours-4-1-end": "",
            "reminders_enabled": None,
        },
    )
    assert response.status_code == 303
    with Session(db) as session:
        hours = session.exec(select(WorkingHours).where(WorkingHours.professional_id == ana)).all()
        offered = session.exec(
            select(ProfessionalService.service_id).where(ProfessionalService.professional_id == ana)
        ).all()
        professional = session.get(Professional, ana)
    saturday = sorted((h.start, h.end) for h in hours if h.weekday == 5)
    assert saturday == [(time(9), time(11)), (time(11, 30), time(13))]
    assert sorted((h.start, h.end) for h in hours if h.weekday == 4) == [(time(8), time(12))]
    assert sorted(offered) == sorted([clinic.services["general"], clinic.services["dentistry"]])
    assert professional.reminders_enabled is False
    changes = [json.loads(c.after or "") for c in settings_changes(db)]
    assert any("hours" in c and "services" in c for c in changes)
    assert {"professional_id": ana, "reminders_enabled": False} in changes


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("11:00", "15:00", "Se superpone con otro intervalo del mismo día."),
        ("16:00", "15:00", "El intervalo tiene que terminar después de empezar."),
        ("09:00", "09:00", "El intervalo tiene que terminar después de empezar."),
        ("25:00", "26:00", "Escribí la hora como HH:MM"),
        ("10:00", "", "Completá las dos horas, o borrá las dos."),
    ],
)
def test_bad_working_hours_are_refused_and_change_nothing(db, admin, clinic, start, end, reason):
    ana = clinic.professionals["ana"]
    path = f"/console/settings/professionals/{ana}"
    response = save(admin, path, {"hours-0-2-start": start, "hours-0-2-end": end})
    page = refused(response, "hours-0-2")
    assert reason in page
    assert f'value="{start}"' in page  # the row comes back as typed
    with Session(db) as session:
        monday = session.exec(
            select(WorkingHours).where(
                WorkingHours.professional_id == ana, WorkingHours.weekday == 0
            )
        ).all()
    assert len(monday) == 2


def test_a_new_professional_and_refusals_of_foreign_ids(db, admin, clinic):
    other = make_clinic(db, number="+595981999999")
    response = save(
        admin,
        "/console/settings/professionals/new",
        {
            "name": "Lic. Rosa Vera",
            "services": [str(clinic.services["lab"])],
            "hours-2-0-start": "07:00",
            "hours-2-0-end": "10:00",
        },
    )
    assert response.status_code == 303
    with Session(db) as session:
        rosa = session.exec(select(Professional).where(Professional.name == "Lic. Rosa Vera")).one()
        hours = session.exec(
            select(WorkingHours).where(WorkingHours.professional_id == rosa.id)
        ).all()
    assert [(h.weekday, h.start, h.end) for h in hours] == [(2, time(7), time(10))]
    path = f"/console/settings/professionals/{rosa.id}"
    refused(save(admin, path, {"services": [str(other.services["general"])]}), "services")
    refused(save(admin, path, {"branch_id": "777"}), "branch_id")
    assert (
        admin.open(f"/console/settings/professionals/{other.professionals['ana']}").status_code
        == 404
    )


def test_notification_rules_are_added_changed_deleted_with_their_history(db, admin, clinic):
    response = save(
        admin,
        "/console/settings/rules",
        {"mode": "reminders", "service_id": str(clinic.services["dentistry"]), "insurance": "IPS"},
    )
    assert response.status_code == 303
    with Session(db) as session:
        rule = session.exec(
            select(NotificationRule).order_by(col(NotificationRule.id).desc())
        ).first()
    assert (rule.mode, rule.service_id, rule.insurance) == (
        "reminders",
        clinic.services["dentistry"],
        "IPS",
    )
    path = f"/console/settings/rules/{rule.id}"
    assert save(admin, path, {"active": None, "mode": "both"}).status_code == 303
    with Session(db) as session:
        rule = session.get(NotificationRule, rule.id)
    assert (rule.active, rule.mode) == (False, "both")
    refused(save(admin, path, {"insurance": "x" * 101}), "insurance")
    refused(save(admin, path, {"mode": "sometimes"}), "mode")
    other = make_clinic(db, number="+595981999999")
    refused(
        save(admin, path, {"professional_id": str(other.professionals["ana"])}), "professional_id"
    )
    admin.open(path)
    deleted = admin.submit(f"{path}/delete")
    assert deleted.location == "/console/settings/rules?notice=deleted"
    page = admin.open("/console/settings/rules").get_data(as_text=True)
    assert "creó la regla" in page and "cambió la regla" in page and "eliminó la regla" in page
    assert "staff:boss@clinica.example" in page
    with Session(db) as session:
        actions = [c.action for c in session.exec(select(NotificationRuleChange))]
    assert actions == ["created", "updated", "deleted"]
    assert admin.open(path).status_code == 404


def test_names_are_escaped_everywhere_they_are_shown(db, admin, clinic):
    assert save(admin, "/console/settings/branches/new", {"name": SCRIPT}).status_code == 303
    path = f"/console/settings/services/{clinic.services['general']}"
    assert save(admin, path, {"name": SCRIPT}).status_code == 303
    ana = f"/console/settings/professionals/{clinic.professionals['ana']}"
    assert save(admin, ana, {"name": SCRIPT}).status_code == 303
    for page in [
        "/console/settings/branches",
        "/console/settings/services",
        path,
        "/console/settings/professionals",
        ana,
        "/console/settings/rules",
        "/console/settings/professionals/new",
    ]:
        body = admin.open(page).get_data(as_text=True)
        assert SCRIPT not in body, page
        assert "&lt;script&gt;" in body, page


SETTINGS_PAGES = [
    "/console/settings",
    "/console/settings/clinic",
    "/console/settings/reminders",
    "/console/settings/automations",
    "/console/settings/branches",
    "/console/settings/branches/new",
    "/console/settings/services",
    "/console/settings/services/new",
    "/console/settings/professionals",
    "/console/settings/professionals/new",
    "/console/settings/rules",
]
SETTINGS_FORMS = [
    "/console/settings/clinic",
    "/console/settings/reminders",
    "/console/settings/automations",
    "/console/settings/branches",
    "/console/settings/services",
    "/console/settings/professionals",
    "/console/settings/rules",
]


def _item_paths(clinic, rule_id: int) -> list[str]:
    return [
        f"/console/settings/services/{clinic.services['general']}",
        f"/console/settings/professionals/{clinic.professionals['ana']}",
        f"/console/settings/rules/{rule_id}",
    ]


def test_settings_are_for_admins_only(db, app, clinic):
    with Session(db) as session:
        rule_id = session.exec(select(NotificationRule.id)).first()
    anonymous = Desk(app.test_client())
    for path in [*SETTINGS_PAGES, *_item_paths(clinic, rule_id)]:
        response = anonymous.open(path)
        assert response.status_code == 303 and "/console/login?next=" in response.location, path
    for path in SETTINGS_FORMS:
        assert anonymous.client.post(path).status_code == 303, path
    add_staff(db, clinic.id, "ana")
    desk = Desk(app.test_client())
    desk.sign_in("ana")
    agenda = desk.open("/console/agenda").get_data(as_text=True)
    assert "/console/settings" not in agenda
    for path in [*SETTINGS_PAGES, *_item_paths(clinic, rule_id)]:
        assert desk.open(path).status_code == 403, path
    desk.open("/console/agenda")
    for path in [
        *SETTINGS_FORMS,
        *_item_paths(clinic, rule_id),
        f"/console/settings/rules/{rule_id}/delete",
    ]:
        response = desk.submit(path, {"name": "Hack", "mode": "both"})
        assert response.status_code == 403, path
    assert the_clinic(db, clinic.id).name == "Clínica Test"


def test_settings_forms_without_their_csrf_token_are_refused(db, admin, clinic):
    with Session(db) as session:
        rule_id = session.exec(select(NotificationRule.id)).first()
    paths = [
        *SETTINGS_FORMS,
        *_item_paths(clinic, rule_id),
        f"/console/settings/rules/{rule_id}/delete",
    ]
    for path in paths:
        for data in [{"name": "Hack"}, {"name": "Hack", "csrf_token": "forged"}]:
            response = admin.client.post(path, data=data)
            assert response.status_code == 400, path
            assert "El formulario venció" in response.get_data(as_text=True)
    assert the_clinic(db, clinic.id).name == "Clínica Test"
    with Session(db) as session:
        assert session.get(NotificationRule, rule_id) is not None


def test_a_service_taken_off_whatsapp_leaves_the_bots_menu_within_a_second(
    db, admin, clinic, clock
):
    """The patient's bot runs in another app (another process's cache): it uses the
    catalog it keeps for half a second, then reads the clinic's version and sees the
    admin's change."""
    bot = make_app(db, clock)
    ticks = catalog_ticks(bot)
    patient = Chat(bot.test_client(), db)
    assert "Odontología" in patient.says("hola")
    path = f"/console/settings/services/{clinic.services['dentistry']}"
    assert save(admin, path, {"self_bookable": None}).status_code == 303
    ticks.advance(0.1)
    assert "Odontología" in patient.says("menu")  # kept, its version not read yet
    ticks.advance(0.5)
    menu = patient.says("menu")
    assert "Consulta general" in menu and "Odontología" not in menu


def test_working_hours_changed_on_the_settings_page_reach_the_bot_within_a_second(
    db, admin, clinic, clock
):
    """09:00 Tuesday in Asunción; Dra. Ana Benítez works 08-12 and 14-18. Her morning
    removed, another app's bot offers the afternoon only once it reads the clinic's
    catalog version again, half a second after it last did."""
    bot = make_app(db, clock)
    ticks = catalog_ticks(bot)
    patient = Chat(bot.test_client(), db)

    def times_today() -> str:
        for line in ["menu", "1", "1"]:  # general consultation, Dra. Ana Benítez
            patient.says(line)
        return patient.says("hoy")

    assert "10:00" in times_today()
    path = f"/console/settings/professionals/{clinic.professionals['ana']}"
    assert save(admin, path, {"hours-1-0-start": "", "hours-1-0-end": ""}).status_code == 303
    assert "10:00" in times_today()  # the bot's catalog, its version read a moment ago
    ticks.advance(1)
    times = times_today()
    assert "14:00" in times and "10:00" not in times


def test_the_minimum_notice_set_on_the_settings_page_is_what_the_bot_offers(
    db, admin, clinic, clock
):
    """09:00 Tuesday in Asunción: with a 60-minute notice the bot offers 10:00 today;
    after the admin sets five hours, the first time offered today is 14:00."""
    assert save(admin, "/console/settings/clinic", {"min_notice_minutes": "300"}).status_code == 303
    patient = Chat(make_app(db, clock).test_client(), db)
    patient.says("hola")
    patient.says("1")  # general consultation
    patient.says("1")  # Dra. Ana Benítez
    times = patient.says("hoy")
    assert "14:00" in times and "10:00" not in times and "12:00" not in times


def test_week_problems_are_pure_and_touching_intervals_are_fine():
    monday = [Interval(0, time(8), time(12)), Interval(0, time(12), time(14))]
    assert week_problems(monday) == {}
    assert week_problems([*monday, Interval(0, time(13), time(15))]) == {2: "overlap"}
    assert week_problems([Interval(7, time(8), time(9))]) == {0: "bad_weekday"}
    assert week_problems([Interval(1, time(9), time(8))]) == {0: "start_after_end"}
    assert week_problems([Interval(1, time(9), time(12)), Interval(2, time(9), time(12))]) == {}


def test_the_admin_api_and_the_settings_page_share_checks_and_history(db, app, admin, clinic):
    api = app.test_client()
    token = app.extensions["turnero"]["settings"].admin_token
    url = f"/admin/api/clinics/{clinic.id}/settings"
    headers = {"Authorization": f"Bearer {token}", "X-Turnero-User": "integration"}
    bad = api.patch(
        url, json={"timezone": "Mars/Olympus_Mons", "horizon_days": -1}, headers=headers
    )
    assert bad.status_code == 422
    assert bad.get_json()["problems"] == {
        "timezone": "bad_timezone",
        "horizon_days": "out_of_range",
    }
    refused(save(admin, "/console/settings/clinic", {"timezone": "Mars/Olympus_Mons"}), "timezone")
    good = api.patch(url, json={"slot_step_minutes": 20}, headers=headers)
    assert good.status_code == 200 and good.get_json()["slot_step_minutes"] == 20
    assert 'value="20"' in admin.open("/console/settings/clinic").get_data(as_text=True)
    assert save(admin, "/console/settings/clinic", {"slot_step_minutes": "15"}).status_code == 303
    assert api.get(url, headers=headers).get_json()["slot_step_minutes"] == 15
    assert [c.changed_by for c in settings_changes(db)] == [
        "integration",
        "staff:boss@clinica.example",
    ]


def test_prices_and_insurances_are_the_facts_patients_who_ask_are_told(db, admin, clinic, clock):
    patient = Chat(make_app(db, clock).test_client(), db)
    path = f"/console/settings/services/{clinic.services['general']}"
    assert save(admin, path, {"price": " 150.000 Gs "}).status_code == 303
    refused(save(admin, path, {"price": "x" * 41}), "price")
    assert (
        save(admin, "/console/settings/clinic", {"insurances": "IPS, Asismed"}).status_code == 303
    )
    with Session(db) as session:
        assert session.get(Service, clinic.services["general"]).price == "150.000 Gs"
    assert the_clinic(db, clinic.id).insurances == "IPS, Asismed"
    assert "• Consulta general: 150.000 Gs" in patient.says("cuánto sale la consulta?")
    assert "IPS, Asismed" in patient.says("qué seguros aceptan?")
    assert save(admin, path, {"price": ""}).status_code == 303  # no price: not said
    with Session(db) as session:
        assert session.get(Service, clinic.services["general"]).price is None
