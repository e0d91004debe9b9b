"""Who may ask, who may administer, and how often one user may ask."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AccessPolicy:
    """An optional allowlist of user or chat ids, and the admin ids.

    With an empty allowlist everyone may ask. Admins may always ask, and only
    they may run maintenance commands, whatever Telegram's command scopes show.
    """

    allowed_ids: frozenset[int] = frozenset()
    admin_ids: frozenset[int] = frozenset()

    @classmethod
    def from_ids(cls, allowed: Iterable[int], admins: Iterable[int]) -> AccessPolicy:
        """Build a policy from any iterables of ids."""
        return cls(frozenset(allowed), frozenset(admins))

    def is_allowed(self, user_id: int | None, chat_id: int | None) -> bool:
        """True when the user, or the chat the message came from, may use the bot."""
        if not self.allowed_ids:
            return True
        return bool({user_id, chat_id} & (self.allowed_ids | self.admin_ids))

    def is_admin(self, user_id: int | None) -> bool:
        """True for a configured admin."""
        return user_id is not None and user_id in self.admin_ids


class FloodLimiter:
    """A sliding one-minute window of questions per user.

    Only the ``max_users`` most recently seen users are tracked, so memory stays
    bounded however many people write to the bot.
    """

    def __init__(
        self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_users: int = 10_000
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._per_minute = per_minute
        self._clock = clock
        self._max_users = max_users
        self._events: OrderedDict[int, deque[float]] = OrderedDict()

    def allow(self, user_id: int) -> bool:
        """Record one question and say whether it is within the limit."""
        now = self._clock()
        events = self._events.pop(user_id, None) or deque()
        while events and now - events[0] >= 60.0:
            events.popleft()
        allowed = len(events) < self._per_minute
        if allowed:
            events.append(now)
        self._events[user_id] = events
        while len(self._events) > self._max_users:
            self._events.popitem(last=False)
        return allowed

    def retry_in(self, user_id: int) -> int:
        """Whole seconds until ``user_id`` may ask again (0 when already allowed)."""
        events = self._events.get(user_id)
        if not events or len(events) < self._per_minute:
            return 0
        return max(1, int(60.0 - (self._clock() - events[0]) + 0.999))
