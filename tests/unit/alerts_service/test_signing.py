"""Webhook signatures, retry delays and delivery outcomes."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from churnwatch_alerts import WebhookConfig, backoff, outcome, signature_header, verify


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = b'{"action_id":"a1"}'
    expected = hmac.new(b"secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature_header("secret", 1700000000, body) == f"t=1700000000,v1={expected}"


@pytest.mark.parametrize(
    ("header", "body", "secret", "now", "ok"),
    [
        (None, b"x", "k", 1000.0, True),
        (None, b"y", "k", 1000.0, False),  # body changed
        (None, b"x", "j", 1000.0, False),  # other secret
        (None, b"x", "k", 1000.0 + 301, False),  # too old: a replay
        ("garbage", b"x", "k", None, False),
        ("t=1000", b"x", "k", None, False),
    ],
)
def test_verify(header, body, secret, now, ok):
    h = header or signature_header("k", 1000, b"x")
    assert verify(secret, h, body, now=now) is ok


def test_backoff_is_full_jitter_under_an_exponential_ceiling():
    rng = random.Random(7)
    for attempts in range(1, 12):
        ceiling = min(30.0, 0.5 * 2 ** (attempts - 1))
        waits = [backoff(attempts, base=0.5, cap=30, rng=rng) for _ in range(400)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > 0.8 * ceiling
        assert min(waits) < 0.2 * ceiling


def test_outcomes_retry_then_dead_letter_after_max_attempts():
    cfg = WebhookConfig(max_attempts=3, backoff_base=1, backoff_cap=10)
    rng = random.Random(1)
    seen = [outcome(n, "HTTP 503", cfg, rng) for n in range(3)]
    assert [o.status for o in seen] == ["pending", "pending", "dead"]
    assert [o.attempts for o in seen] == [1, 2, 3]
    assert seen[-1].error == "HTTP 503"
    assert seen[0].wait <= 1
    ok = outcome(2, None, cfg, rng)
    assert (ok.status, ok.attempts, ok.error) == ("delivered", 3, None)


def test_the_reference_receiver_refuses_tampered_stale_and_replayed_deliveries():
    from churnwatch_alerts.signing import ReplayGuard

    now = [1_700_000_000.0]
    guard = ReplayGuard("whsec", tolerance=300, clock=lambda: now[0])
    body = b'{"action_id":"a1","customer_id":"C-1"}'
    first = signature_header("whsec", 1_700_000_000, body)
    assert guard.check(first, body) is None
    assert guard.check(first, body) == "replayed"  # the same capture sent again
    assert guard.check(first, body.replace(b"C-1", b"C-2")) == "bad signature"  # tampered
    assert guard.check(signature_header("other", 1_700_000_000, body), body) == "bad signature"
    now[0] += 5
    retry = signature_header("whsec", 1_700_000_005, body)  # churnwatch's own retry: new t
    assert guard.check(retry, body) is None
    now[0] += 400
    assert guard.check(retry, body) == "stale timestamp"  # replayed after the tolerance
    assert guard.check("t=1,v1=zz", body) == "bad signature"
