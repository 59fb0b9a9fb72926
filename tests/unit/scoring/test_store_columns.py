"""``latest_scores``' columns come from `ScoreRecord`'s fields, in one place."""

from __future__ import annotations

from churnwatch.messages import SCORE_FIELDS
from churnwatch_scoring import store
from churnwatch_scoring.records import ScoreRecord


def test_every_record_field_is_a_column_of_its_type() -> None:
    raw_rfm = ["rfm_recency_days", "rfm_frequency", "rfm_monetary"]  # what `cuts` ranks
    assert list(store._LATEST_TYPES) == [*SCORE_FIELDS, "partition", *raw_rfm]
    assert set(ScoreRecord.model_fields) - set(store._LATEST_TYPES) == {"schema_version"}
    picked = {k: store._LATEST_TYPES[k] for k in ("partition", "reasons", "clv_low", "event_time")}
    assert picked == {
        "partition": "int", "reasons": "jsonb", "clv_low": "float8", "event_time": "timestamptz",
    }  # fmt: skip
    assert store._LATEST_TYPES["band"] == store._LATEST_TYPES["rfm_segment"] == "text"
    assert "ON CONFLICT (customer_id)" in store._LATEST
    assert "customer_id = EXCLUDED" not in store._LATEST
