"""The senders' send schedules in Redis, where REDIS_URL is set: the same changes as in
the database (`store.sender_paces`) without a transaction per send there."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import redis

Result = TypeVar("Result")
KEY_PREFIX = "turnero:sender_pace:"
KEEP_SECONDS = 3600  # an idle sender's schedule says nothing after a second; let it go


@dataclass(frozen=True)
class RedisPaces:
    """`scheduler.pacing.SharedPaces` in Redis: each change is an optimistic transaction
    (WATCH the sender's key, write it in MULTI/EXEC, start again if another wrote it)."""

    client: "redis.Redis"

    @classmethod
    def from_url(cls, url: str) -> "RedisPaces":
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=5, decode_responses=True))

    def update(self, sender: str, change: Callable[[str | None], tuple[str, Result]]) -> Result:
        import redis

        key = KEY_PREFIX + sender
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    text = pipe.get(key)
                    new_text, result = change(text if isinstance(text, str) else None)
                    pipe.multi()
                    pipe.set(key, new_text, ex=KEEP_SECONDS)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
