"""The API's KPI day cache: a day is served from memory only while its stamp is the one it was
read at, and the least recently used days go first when it is full."""

from __future__ import annotations

from datetime import date, timedelta

from churnwatch_api.store.kpis import DayCache

D = date(2026, 3, 2)


def test_a_cached_day_is_served_only_at_the_stamp_it_was_read_at() -> None:
    cache = DayCache()
    cache.put("all", D, "7:7:1", {("all", "revenue"): 10.0})
    assert cache.get("all", D, "7:7:1") == {("all", "revenue"): 10.0}
    assert cache.get("all", D, "9:16:2") is None  # scoring wrote the day since
    assert cache.get("tier", D, "7:7:1") is None  # another cut is another entry
    cache.put("all", D, "9:16:2", {("all", "revenue"): 12.0})
    assert cache.get("all", D, "9:16:2") == {("all", "revenue"): 12.0}


def test_the_least_recently_used_day_goes_first() -> None:
    cache = DayCache(max_days=2)
    d1, d2, d3 = D, D + timedelta(days=1), D + timedelta(days=2)
    cache.put("all", d1, "1", {})
    cache.put("all", d2, "1", {})
    assert cache.get("all", d1, "1") == {}  # d1 used: d2 is now the oldest
    cache.put("all", d3, "1", {})
    assert cache.get("all", d2, "1") is None
    assert cache.get("all", d1, "1") == {}
    assert cache.get("all", d3, "1") == {}
