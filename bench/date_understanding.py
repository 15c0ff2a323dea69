"""How fast patients' words about when are understood: `bot.when.read_when` over the test
corpus (214 utterances in Spanish, English and Guarani, mixed and with typos), in-process
on one core. Reported apart: the utterances our vocabulary reads and those left to
dateparser ("December the 15th"), which is far slower. Informative: no target.

Run: python bench/date_understanding.py [--seconds 5]
"""

import argparse
import gc
import os
import sys
import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.when import _dateparser, read_when
from tests.bot.test_when_corpus import CORPUS, TODAY, meaning


def rate(utterances: list[str], seconds: float) -> tuple[float, int]:
    """Utterances per second over at least `seconds`, and how many were read."""
    done, start = 0, clock.perf_counter()
    while clock.perf_counter() - start < seconds:
        for said in utterances:
            read_when(said, TODAY)
        done += len(utterances)
    return done / (clock.perf_counter() - start), done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    said = [s for s, _ in CORPUS]
    right = sum(meaning(read_when(s, TODAY)) == m for s, m in CORPUS)
    through_dateparser = [s for s in said if _uses_dateparser(s)]
    ours = [s for s in said if s not in through_dateparser]
    gc.collect()
    whole, n_whole = rate(said, args.seconds)
    own, n_own = rate(ours, args.seconds / 2)
    slow, n_slow = rate(through_dateparser, args.seconds / 2) if through_dateparser else (0, 0)
    print(f"date_understanding: {len(said)} utterances, accuracy {right}/{len(said)}")
    print(f"  read by our vocabulary: {len(ours)}; left to dateparser: {len(through_dateparser)}")
    print(f"{'whole corpus':40} {whole:12,.0f} utterances/s   ({n_whole:,} read)")
    print(f"{'our vocabulary only':40} {own:12,.0f} utterances/s   ({n_own:,} read)")
    print(f"{'left to dateparser':40} {slow:12,.0f} utterances/s   ({n_slow:,} read)")
    return 0


def _uses_dateparser(said: str) -> bool:
    """Whether reading `said` reaches dateparser (counted by wrapping it)."""
    import bot.when as when

    calls = [0]

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return _dateparser(*args, **kwargs)

    when._dateparser = counting  # type: ignore[assignment]
    try:
        read_when(said, TODAY)
    finally:
        when._dateparser = _dateparser  # type: ignore[assignment]
    return calls[0] > 0


if __name__ == "__main__":
    raise SystemExit(main())
