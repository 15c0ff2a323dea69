"""What the property tests throw at the app from outside: numbers no column holds, text
with NUL, very long values; and the settings that keep each run repeatable and short."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

BOUNDED = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def numbers(longest: int) -> st.SearchStrategy[str]:
    """Numbers as text: beyond any integer column, not finite, not ASCII, or up to
    `longest` digits."""
    return st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.sampled_from(["2147483648", "9223372036854775808", "1e400", "nan", "-0", "²", "١٢"]),
        st.integers(min_value=30, max_value=longest).map(lambda n: "9" * n),
    )


def with_nul() -> st.SearchStrategy[str]:
    return st.text(alphabet=st.characters(codec="utf-8"), max_size=20).map(lambda t: t + "\x00" + t)


def long_text(shortest: int) -> st.SearchStrategy[str]:
    return st.integers(min_value=shortest, max_value=20000).map(lambda n: "á" * n)
