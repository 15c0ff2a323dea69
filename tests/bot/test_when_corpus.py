"""What patients write about when, in Spanish, English and Guarani (and mixed, with typos
and without accents), against a fixed today: Wednesday 25 November 2026. Every case must
pass; the accuracy is printed for the record."""

from datetime import date

import pytest

from bot.when import When, read_when

TODAY = date(2026, 11, 25)  # a Wednesday

# (what the patient wrote, what it means). Meaning: the day or days (several are asked
# back; "week" is a week to choose in), the time, the part of the day, or "nothing".
CORPUS: list[tuple[str, str]] = [
    # -- Spanish: relative days
    ("hoy", "2026-11-25"),
    ("Hoy!", "2026-11-25"),
    ("hoy mismo", "2026-11-25"),
    ("mañana", "2026-11-26"),
    ("manana", "2026-11-26"),
    ("MAÑANA", "2026-11-26"),
    ("mañna", "2026-11-26"),
    ("pasado mañana", "2026-11-27"),
    ("pasado manana", "2026-11-27"),
    ("pasado", "2026-11-27"),
    ("ayer", "2026-11-24"),
    # -- Spanish: weekdays
    ("el viernes", "2026-11-27"),
    ("viernes", "2026-11-27"),
    ("el vienes", "2026-11-27"),
    ("el sábado", "2026-11-28"),
    ("sabado", "2026-11-28"),
    ("el lunes", "2026-11-30"),
    ("el lunes que viene", "2026-11-30"),
    ("lunes que viene", "2026-11-30"),
    ("el próximo lunes", "2026-11-30"),
    ("el martes", "2026-12-01"),
    ("martes", "2026-12-01"),
    ("el miércoles", "2026-12-02"),
    ("miercoles", "2026-12-02"),
    ("mierkoles", "2026-12-02"),
    ("mié", "2026-12-02"),
    ("sáb", "2026-11-28"),
    ("mierkoles", "2026-12-02"),
    ("el jueves", "2026-11-26"),
    ("jueves", "2026-11-26"),
    ("el domingo", "2026-11-29"),
    ("el viernes de la semana que viene", "2026-12-04"),
    # -- Spanish: weeks
    ("la semana que viene", "week 2026-11-30..2026-12-06"),
    ("semana que viene", "week 2026-11-30..2026-12-06"),
    ("la próxima semana", "week 2026-11-30..2026-12-06"),
    ("la otra semana", "week 2026-11-30..2026-12-06"),
    ("esta semana", "week 2026-11-25..2026-11-29"),
    # -- Spanish: day and month
    ("15/12", "2026-12-15"),
    ("15-12", "2026-12-15"),
    ("15/12/2026", "2026-12-15"),
    ("15-12-26", "2026-12-15"),
    ("15 de diciembre", "2026-12-15"),
    ("15 diciembre", "2026-12-15"),
    ("15 dic", "2026-12-15"),
    ("el 15 de diciembre", "2026-12-15"),
    ("el 15 de diciembre de 2026", "2026-12-15"),
    ("diciembre 15", "2026-12-15"),
    ("15 de diciembre", "2026-12-15"),
    ("el 3 de diciembre", "2026-12-03"),
    ("3 de dicembre", "2026-12-03"),
    ("1/1", "2027-01-01"),
    ("el 1 de enero", "2027-01-01"),
    ("2 de febrero", "2027-02-02"),
    ("10 de setiembre", "2027-09-10"),
    ("20/11", "2026-11-20"),
    ("el 20 de noviembre", "2026-11-20"),
    ("el 10", "2026-12-10"),
    ("el día 10", "2026-12-10"),
    ("para el 28", "2026-11-28"),
    ("el 30", "2026-11-30"),
    ("31/11", "nothing"),
    # -- Spanish: weekday and number together
    ("el martes 1", "2026-12-01"),
    ("el jueves 10", "2026-12-10"),
    ("el martes 10", "either 2026-12-01 2026-12-10"),
    ("martes o miércoles", "either 2026-12-01 2026-12-02"),
    ("mañana o pasado", "either 2026-11-26 2026-11-27"),
    ("domingo 20/12", "2026-12-20"),
    ("mañana jueves", "2026-11-26"),
    ("mañana viernes", "either 2026-11-26 2026-11-27"),
    # -- Spanish: times and parts of the day
    ("a las 10", "10:00"),
    ("10:30", "10:30"),
    ("10.30", "10:30"),
    ("10hs", "10:00"),
    ("10 hs", "10:00"),
    ("a las 10 y media", "10:30"),
    ("10 y media", "10:30"),
    ("a las 9 y cuarto", "09:15"),
    ("a las 3", "15:00"),
    ("a las 4 de la tarde", "16:00 afternoon"),
    ("a las 9 de la mañana", "09:00 morning"),
    ("8 de la noche", "20:00 evening"),
    ("16:45", "16:45"),
    ("a la tarde", "afternoon"),
    ("por la mañana", "morning"),
    ("a la mañana", "morning"),
    ("de tarde", "afternoon"),
    ("temprano", "morning"),
    ("a la noche", "evening"),
    ("después de almorzar", "afternoon"),
    # -- Spanish: day with time or part
    ("el martes a la tarde", "2026-12-01 afternoon"),
    ("el martes por la tarde", "2026-12-01 afternoon"),
    ("mañana a la mañana", "2026-11-26 morning"),
    ("mañana a la tarde", "2026-11-26 afternoon"),
    ("manana x la tarde", "2026-11-26 afternoon"),
    ("mañana temprano", "2026-11-26 morning"),
    ("pasado mañana 9:30", "2026-11-27 09:30"),
    ("pasado mañana a las 9:30", "2026-11-27 09:30"),
    ("hoy 18hs", "2026-11-25 18:00"),
    ("hoy a la noche", "2026-11-25 evening"),
    ("el viernes a las 10", "2026-11-27 10:00"),
    ("viernes 10:30", "2026-11-27 10:30"),
    ("el lunes que viene a las 8", "2026-11-30 08:00"),
    ("el 15 de diciembre a las 11", "2026-12-15 11:00"),
    ("15/12 a las 9", "2026-12-15 09:00"),
    ("el jueves tipo 5", "2026-11-26 17:00"),
    ("mierkoles a las 10", "2026-12-02 10:00"),
    ("vienes tarde", "2026-11-27 afternoon"),
    ("la semana que viene a la mañana", "week 2026-11-30..2026-12-06 morning"),
    ("pasado a la tarde", "2026-11-27 afternoon"),
    ("hoy mismo a la tarde", "2026-11-25 afternoon"),
    # -- English
    ("today", "2026-11-25"),
    ("tomorrow", "2026-11-26"),
    ("Tomorrow!", "2026-11-26"),
    ("tomorow", "2026-11-26"),
    ("tmrw", "2026-11-26"),
    ("the day after tomorrow", "2026-11-27"),
    ("day after tomorrow", "2026-11-27"),
    ("yesterday", "2026-11-24"),
    ("friday", "2026-11-27"),
    ("on Friday", "2026-11-27"),
    ("next friday", "2026-11-27"),
    ("this friday", "2026-11-27"),
    ("monday", "2026-11-30"),
    ("next monday", "2026-11-30"),
    ("tuesday", "2026-12-01"),
    ("wednesday", "2026-12-02"),
    ("wensday", "2026-12-02"),
    ("thursday", "2026-11-26"),
    ("thurs", "2026-11-26"),
    ("saturday", "2026-11-28"),
    ("next week", "week 2026-11-30..2026-12-06"),
    ("this week", "week 2026-11-25..2026-11-29"),
    ("December 15", "2026-12-15"),
    ("December 15th", "2026-12-15"),
    ("dec 15", "2026-12-15"),
    ("15 dec", "2026-12-15"),
    ("the 15th of December", "2026-12-15"),
    ("15th december", "2026-12-15"),
    ("december the 3rd", "2026-12-03"),
    ("the 10th", "2026-12-10"),
    ("january 2", "2027-01-02"),
    ("3pm", "15:00"),
    ("3 pm", "15:00"),
    ("10am", "10:00"),
    ("10:30 am", "10:30"),
    ("at 9", "09:00"),
    ("at 4", "16:00"),
    ("12pm", "12:00"),
    ("in the morning", "morning"),
    ("afternoon", "afternoon"),
    ("in the evening", "evening"),
    ("tomorrow morning", "2026-11-26 morning"),
    ("tomorow morning", "2026-11-26 morning"),
    ("tomorrow afternoon", "2026-11-26 afternoon"),
    ("tomorrow at 5pm", "2026-11-26 17:00"),
    ("tmrw at 5pm", "2026-11-26 17:00"),
    ("friday at 10", "2026-11-27 10:00"),
    ("friday 10:30am", "2026-11-27 10:30"),
    ("next tuesday afternoon", "2026-12-01 afternoon"),
    ("monday or tuesday", "either 2026-11-30 2026-12-01"),
    ("next week in the morning", "week 2026-11-30..2026-12-06 morning"),
    ("dec 15 at 3pm", "2026-12-15 15:00"),
    ("today in the evening", "2026-11-25 evening"),
    # -- Guarani and Jopara
    ("ko árape", "2026-11-25"),
    ("ko'ára", "2026-11-25"),
    ("ko'ẽrõ", "2026-11-26"),
    ("koero", "2026-11-26"),
    ("ko'ero", "2026-11-26"),
    ("ko'ẽ mbove", "2026-11-27"),
    ("koe mbove", "2026-11-27"),
    ("kuehe", "2026-11-24"),
    # CLDR (and MediaWiki's Guarani, and the date libraries phones use): arateĩ is
    # Sunday, arakõi Monday, araapy Tuesday, ararundy Wednesday, arapo Thursday,
    # arapoteĩ Friday, arapokõi Saturday.
    ("arapo", "2026-11-26"),
    ("arapoteĩ", "2026-11-27"),
    ("arapotei", "2026-11-27"),
    ("arapokõi", "2026-11-28"),
    ("arateĩ", "2026-11-29"),
    ("aratei", "2026-11-29"),
    ("arakõi", "2026-11-30"),
    ("arakoi", "2026-11-30"),
    ("araapy", "2026-12-01"),
    ("ararundy", "2026-12-02"),
    ("pyhareve", "morning"),
    ("ka'aru", "afternoon"),
    ("kaaru", "afternoon"),
    ("pyhare", "evening"),
    ("ko'ẽrõ pyhareve", "2026-11-26 morning"),
    ("ko'ẽrõ ka'aru", "2026-11-26 afternoon"),
    ("koero kaaru", "2026-11-26 afternoon"),
    ("arakõi pyhareve", "2026-11-30 morning"),
    ("arapo ka'aru", "2026-11-26 afternoon"),
    ("ko'ẽ mbove aravo 10", "2026-11-27 10:00"),
    ("semana oúva", "week 2026-11-30..2026-12-06"),
    ("ambue semana", "week 2026-11-30..2026-12-06"),
    ("15 jasypakõi", "2026-12-15"),
    ("3 jasypakoi", "2026-12-03"),
    # -- mixed languages
    ("ko'ẽrõ a la tarde", "2026-11-26 afternoon"),
    ("mañana ka'aru", "2026-11-26 afternoon"),
    ("el lunes pyhareve", "2026-11-30 morning"),
    ("arapo a las 10", "2026-11-26 10:00"),
    ("viernes ka'aru", "2026-11-27 afternoon"),
    ("tomorrow a la tarde", "2026-11-26 afternoon"),
    ("mañana in the morning", "2026-11-26 morning"),
    ("koero 9:30", "2026-11-26 09:30"),
    ("semana oúva a la mañana", "week 2026-11-30..2026-12-06 morning"),
    # -- so many days or weeks from today, in digits or in words
    ("in 3 days", "2026-11-28"),
    ("dentro de 3 dias", "2026-11-28"),
    ("en 2 semanas", "2026-12-09"),
    ("in 2 weeks", "2026-12-09"),
    ("dentro de una semana", "2026-12-02"),
    ("en una semana", "2026-12-02"),
    ("en dos dias", "2026-11-27"),
    ("in two days", "2026-11-27"),
    ("in a week", "2026-12-02"),
    ("2 days from now", "2026-11-27"),
    ("mokõi ára rire", "2026-11-27"),
    # -- day numbers in words
    ("el primero de diciembre", "2026-12-01"),
    ("el dos de diciembre", "2026-12-02"),
    ("quince de diciembre", "2026-12-15"),
    ("diciembre veinte", "2026-12-20"),
    ("the first of december", "2026-12-01"),
    ("december the fifth", "2026-12-05"),
    ("sábado cinco", "2026-12-05"),
    # -- a weekday or a month with a number: a day of the month, never a list's option
    ("sábado 5", "2026-12-05"),
    ("jueves 3", "2026-12-03"),
    ("sabado 28", "2026-11-28"),
    # -- noon, and a part of today
    ("mediodía", "12:00"),
    ("al mediodia", "12:00"),
    ("mañana al mediodía", "2026-11-26 12:00"),
    ("noon", "12:00"),
    ("tomorrow at noon", "2026-11-26 12:00"),
    ("asajepyte", "12:00"),
    ("antes del mediodía", "morning"),
    ("esta tarde", "2026-11-25 afternoon"),
    ("esta mañana", "2026-11-25 morning"),
    ("esta noche", "2026-11-25 evening"),
    ("this afternoon", "2026-11-25 afternoon"),
    ("tonight", "2026-11-25 evening"),
    ("ko ka'aru", "2026-11-25 afternoon"),
    # -- an hour in words after "a las" / "at"; a number word that is no day nor hour
    ("a las diez y cuarto", "10:15"),
    ("a las ocho", "08:00"),
    ("mañana a las diez", "2026-11-26 10:00"),
    ("at ten", "10:00"),
    ("la primera", "nothing"),
    # -- a part of the day said after the day; a weekday every week is no one day
    ("el lunes de mañana", "2026-11-30 morning"),
    ("mañana de mañana", "2026-11-26 morning"),
    ("el turno de mañana", "2026-11-26"),
    ("abren los sábados?", "nothing"),
    ("are you open on Saturdays?", "nothing"),
    ("see you on Monday", "2026-11-30"),
    ("viernes-pe", "2026-11-27"),
    # -- nothing about when
    ("banana", "nothing"),
    ("👍", "nothing"),
    ("2", "nothing"),
    ("sí", "nothing"),
    ("no sé", "nothing"),
    ("cardiólogo", "nothing"),
    ("25:00", "nothing"),
    ("quiero un turno", "nothing"),
    ("mba'éichapa", "nothing"),
    ("hello", "nothing"),
]


def meaning(when: When) -> str:
    parts: list[str] = []
    if when.week:
        parts.append(f"week {when.days[0].isoformat()}..{when.days[-1].isoformat()}")
    elif when.ambiguous:
        parts.append("either " + " ".join(d.isoformat() for d in when.days))
    elif when.day:
        parts.append(when.day.isoformat())
    if when.time:
        parts.append(when.time.strftime("%H:%M"))
    if when.part:
        parts.append(when.part)
    return " ".join(parts) or "nothing"


def test_the_corpus_is_big_enough_and_in_three_languages():
    assert len(CORPUS) >= 150
    assert len({said for said, _ in CORPUS}) >= 150


@pytest.fixture(scope="module")
def results() -> list[tuple[str, str, str]]:
    found = [(said, meant, meaning(read_when(said, TODAY))) for said, meant in CORPUS]
    right = sum(meant == got for _, meant, got in found)
    print(f"\nwhen-corpus accuracy: {right}/{len(found)} = {right / len(found):.1%}")
    return found


@pytest.mark.parametrize(("said", "meant"), CORPUS)
def test_each_utterance(said: str, meant: str, results):
    assert meaning(read_when(said, TODAY)) == meant


def test_a_bare_number_is_a_time_only_when_the_question_was_the_time():
    assert read_when("16", TODAY).time is None
    assert read_when("16", TODAY, bare_number_is_time=True).time.hour == 16
