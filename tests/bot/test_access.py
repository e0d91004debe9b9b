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
    assert limiter.retry_in(1) == 60 and limiter.retry_in(2) == 0
    now[0] = 59.0
    assert not limiter.allow(1)  # a refused question does not extend the window
    assert limiter.retry_in(1) == 1  # rounded up: never "0 s" while still refused
    now[0] = 60.5
    assert limiter.allow(1)
    assert limiter.retry_in(1) == 0  # one of three used in the new window
    assert limiter.allow(1) and limiter.allow(1) and not limiter.allow(1)
    assert limiter.retry_in(1) == 60


def test_flood_limiter_memory_is_bounded():
    now = [0.0]
    limiter = FloodLimiter(per_minute=1, clock=lambda: now[0], max_users=100)
    for user in range(1000):
        assert limiter.allow(user)
    assert not limiter.allow(999)  # recent users are still limited
    assert limiter.allow(0)  # the oldest were forgotten to bound memory


def test_flood_limiter_rejects_nonsense():
    with pytest.raises(ValueError):
        FloodLimiter(per_minute=0)
