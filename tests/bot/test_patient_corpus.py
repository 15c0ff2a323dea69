"""The bot against what patients write: the labelled corpus of `tests/corpus/` (written from
the patients' side, without the bot's vocabulary at hand), stepped through the real engine by
`bench/intent_corpus.py`. Each file must reach the targets on its own: the held-out file
checks that the vocabulary was not fitted to the other one only."""

import pytest

from bench.intent_corpus import (
    CORPUS,
    DETAILS_TARGET,
    FILES,
    INTENT_TARGET,
    corpus_view,
    details_share,
    intent_accuracy,
    load,
    read_all,
    understood,
)


@pytest.mark.parametrize("name", FILES)
def test_the_corpus_is_understood_to_its_targets(name: str) -> None:
    readings = read_all(load(CORPUS / name), corpus_view())
    assert len(readings) >= 240
    assert intent_accuracy(readings) >= INTENT_TARGET
    assert details_share(readings)[0] >= DETAILS_TARGET


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("no quiero cancelar, quiero cambiar el horario de mi turno", "reschedule_appointment"),
        ("no quiero cancelar nada, solo saber a qué hora es mi turno", "my_appointments"),
        ("I don't want to cancel, just push it back a few days", "reschedule_appointment"),
        ("no entiendo inglés, en español por favor", "language_es"),
        ("no quiero hablar con nadie, quiero un turno", "start"),
        ("quisiera un turno de odontología para el sábado a la mañana, gracias", "start"),
        ("gracias!", "thanks"),
        ("chauuu", "goodbye"),
        ("kiero cancelr mi turno xfa", "cancel_appointment"),
    ],
)
def test_a_word_merely_mentioned_does_not_decide(said: str, meant: str) -> None:
    assert understood(said, 0, corpus_view()) == meant
