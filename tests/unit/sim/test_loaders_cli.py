"""``churnwatch replay`` (the loaders' typer app): files written, summary, exit statuses."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from churnwatch_sim.loaders import CsvMapping, iter_csv
from churnwatch_sim.loaders.cli import app

from .test_loaders_contract import contract_violations

runner = CliRunner()
CSV = "client;jour;total;commande\nc1;01/12/2025;12,50;A1\nc2;02/12/2025;-1;A2\nc3;xx;3;A3\n"
OPTIONS = [
    "--customer-col", "client", "--date-col", "jour", "--amount-col", "total",
    "--order-col", "commande", "--date-format", "%d/%m/%Y", "--delimiter", ";",
    "--decimal-comma", "--currency", "eur", "--source", "boutique",
]  # fmt: skip


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_csv_command_writes_events_and_reports_skips(tmp_path: Path) -> None:
    source, out = tmp_path / "orders.csv", tmp_path / "out" / "events.jsonl"
    source.write_text(CSV)
    result = runner.invoke(app, ["csv", str(source), "--out", str(out), *OPTIONS])
    assert result.exit_code == 0, result.output
    events = read_jsonl(out)
    mapping = CsvMapping(
        customer_id="client",
        occurred_at="jour",
        amount="total",
        order_id="commande",
        date_format="%d/%m/%Y",
        delimiter=";",
        decimal_comma=True,
        default_currency="EUR",
        source="boutique",
    )
    assert events == list(iter_csv(source, mapping))
    assert [e["customer_id"] for e in events] == ["c1"]
    assert all(contract_violations(e) == [] for e in events)
    assert "read 3, emitted 1, skipped 2 (invalid_date: 1, negative_amount: 1)" in result.stderr
    assert "line 3 (row 2), column 'total'" in result.stderr
    assert "line 4 (row 3), column 'jour'" in result.stderr


def test_csv_strict_stops_with_status_1(tmp_path: Path) -> None:
    source, out = tmp_path / "orders.csv", tmp_path / "events.jsonl"
    source.write_text(CSV)
    result = runner.invoke(app, ["csv", str(source), "--out", str(out), "--strict", *OPTIONS])
    assert result.exit_code == 1
    assert "line 3 (row 2), column 'total': amount must be >= 0" in result.stderr


def test_csv_unusable_input_is_status_2(tmp_path: Path) -> None:
    source, out = tmp_path / "orders.csv", tmp_path / "events.jsonl"
    source.write_text(CSV)
    missing = runner.invoke(
        app, ["csv", str(source), "--out", str(out), *OPTIONS, "--items-col", "qty"]
    )
    assert missing.exit_code == 2
    assert "no column 'qty'" in missing.stderr
    no_currency = runner.invoke(app, ["csv", str(source), "--out", str(out)])
    assert no_currency.exit_code == 2
    assert "currency" in no_currency.stderr
    absent = runner.invoke(
        app, ["csv", str(tmp_path / "nope.csv"), "--out", str(out), "--currency", "EUR"]
    )
    assert absent.exit_code == 2


def test_cdnow_command(tmp_path: Path) -> None:
    sample, out = tmp_path / "cdnow.txt", tmp_path / "cdnow.jsonl"
    sample.write_text(" 00001 19970101  1   11.77\r\n 00002 19970112  1   12.00\r\n")
    result = runner.invoke(
        app, ["cdnow", "--path", str(sample), "--out", str(out), "--customer-prefix", "cd-"]
    )
    assert result.exit_code == 0, result.output
    events = read_jsonl(out)
    assert [e["customer_id"] for e in events] == ["cd-00001", "cd-00002"]
    assert all(contract_violations(e) == [] for e in events)
    assert "read 2, emitted 2, skipped 0" in result.stderr


class _Ingest(BaseHTTPRequestHandler):
    """A stand-in for the ingest API: records batches, rejects events whose amount is "0"."""

    batches: list[list[dict[str, Any]]]

    def do_POST(self) -> None:
        assert self.path == "/v1/events"
        batch = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.batches.append(batch)  # type: ignore[attr-defined]
        bad = [e for e in batch if e["attributes"]["amount"] == "0"]
        results = [{"status": "rejected", "event_id": e["event_id"]} for e in bad]
        body = {"accepted": len(batch) - len(bad), "duplicates": 0, "rejected": len(bad),
                "results": results}  # fmt: skip
        data = json.dumps(body).encode()
        self.send_response(207 if bad else 200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def ingest() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    server.batches = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_to_http_sends_batches_to_ingest(tmp_path: Path, ingest: ThreadingHTTPServer) -> None:
    sample = tmp_path / "cdnow.txt"
    sample.write_text("".join(f" 0000{i} 19970101  1   1{i}.00\n" for i in range(1, 6)))
    url = f"http://127.0.0.1:{ingest.server_address[1]}"
    result = runner.invoke(app, ["cdnow", "--path", str(sample), "--to", url, "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    batches = ingest.batches  # type: ignore[attr-defined]
    assert [len(b) for b in batches] == [2, 2, 1]
    assert [e["customer_id"] for b in batches for e in b] == [f"0000{i}" for i in range(1, 6)]
    assert "receiver: sent 5, accepted 5, duplicates 0, rejected 0" in result.stderr


def test_events_rejected_by_ingest_fail_the_run(
    tmp_path: Path, ingest: ThreadingHTTPServer
) -> None:
    sample = tmp_path / "cdnow.txt"
    sample.write_text(" 00001 19970101  1   0\n 00002 19970101  1   5.00\n")
    url = f"http://127.0.0.1:{ingest.server_address[1]}"
    result = runner.invoke(app, ["cdnow", "--path", str(sample), "--to", url])
    assert result.exit_code == 1
    assert "accepted 1, duplicates 0, rejected 1" in result.stderr
    assert '"event_id":"cdnow:00001:19970101:1"' in result.stderr


@pytest.mark.parametrize(
    "target",
    [[], ["--out", "x.jsonl", "--to", "http://127.0.0.1:1"], ["--to", "ftp://host"]],
)
def test_exactly_one_valid_target(target: list[str]) -> None:
    result = runner.invoke(app, ["cdnow", *target])
    assert result.exit_code == 2
    assert "--to" in result.stderr
