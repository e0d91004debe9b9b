import pytest

from bot.access import AccessPolicy, FloodLimiter


def test_open_policy_allows_everyone_but_admin_is_explicit():
    policy = AccessPolicy()
    assert policy.is_allowed(5, 5)
    assert not policy.is_admin(5)


def test_allowlist_by_user_or_chat_and_admins_always_allowed():
    policy = AccessPolicy.from_ids(allowed=[10, -100200], admins=[99])
    assert policy.is_allowed(10, 10)
    assert policy.is_allowed(11, -100200)  # anyone in an allowed group chat
    assert policy.is_allowed(99, 99)
    assert not policy.is_allowed(11, 11)
    assert not policy.is_allowed(None, None)
    assert policy.is_admin(99) and not policy.is_admin(10) and not policy.is_admin(None)


def test_flood_limiter_window():
    now = [0.0]
    limiter = FloodLimiter(per_minute=3, clock=lambda: now[0])
    assert [limiter.allow(1) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow(2)  # other users are independent
    assert 1 <= limiter.retry_in(1) <= 60
    now[0] = 59.0
    assert not limiter.allow(1)
    now[0] = 60.5
    assert limiter.allow(1)
    assert limiter.retry_in(1) == 0 or limiter.retry_in(1) >= 1


def test_flood_limiter_memory_is_bounded():
    limiter = FloodLimiter(per_minute=1, max_users=100)
    for user in range(1000):
        limiter.allow(user)
    assert len(limiter._events) == 100


def test_flood_limiter_rejects_nonsense():
    with pytest.raises(ValueError):
        FloodLimiter(per_minute=0)
