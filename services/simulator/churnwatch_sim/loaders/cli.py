"""``churnwatch replay``: real purchase histories (CDNOW, any CSV) as churnwatch events.

Examples::

    churnwatch replay cdnow --out var/cdnow.jsonl
    churnwatch replay cdnow --to http://127.0.0.1:8001          # the ingest API
    churnwatch replay csv orders.csv --customer-col client --date-col day \\
        --date-format %d/%m/%Y --amount-col total --currency EUR --to kafka://127.0.0.1:9092

Events go to a JSON lines file (``--out``, ``-`` for stdout) or, through the simulator's sinks
(:mod:`churnwatch_sim.sinks`), to the ingest API (``--to http(s)://host:port``: batched,
retried) or to Kafka (``--to kafka://host:port[/topic]``, default topic ``cw.events.raw``). The
summary (read, emitted, skipped by reason, the first bad rows, what the receiver made of the
events) is printed on stderr. Exit status: 0 done; 1 a bad row with ``--strict``, events
rejected by the receiver, or a receiver that failed; 2 unusable input (missing column, empty
file, bad option).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
import typer
from rich.console import Console

from churnwatch_sim.sinks import SinkError, SinkStats, open_sink

from ._common import BadRowError, LoaderError, LoadReport
from .cdnow import iter_cdnow
from .csv_transactions import CsvMapping, iter_csv

__all__ = ["app", "deliver"]

app = typer.Typer(
    help="Replay real purchase histories (CDNOW, your own CSV) as churnwatch events.",
    no_args_is_help=True,
    add_completion=False,
)
_err = Console(stderr=True, soft_wrap=True)

OutOption = Annotated[
    str | None, typer.Option("--out", help="JSON lines file to write ('-': stdout).")
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", help="http(s)://ingest:port, or kafka://host:port (optionally /topic)."),
]
BatchOption = Annotated[int, typer.Option(min=1, help="Events per sink call.")]
SourceHelp = "The events' source (1-64 chars of [A-Za-z0-9._:-]); also prefixes event ids."


async def deliver(
    events: Iterable[dict[str, Any]], target: str, *, batch_size: int = 5000
) -> SinkStats:
    """Send events to a target (file path, ``-``, ``http(s)://…``, ``kafka://…``) in batches.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "out.jsonl"
    ...     stats = asyncio.run(deliver([{"a": 1}, {"b": "x"}], str(path), batch_size=1))
    ...     (stats.sent, stats.accepted), path.read_text()
    ((2, 2), '{"a":1}\\n{"b":"x"}\\n')
    """
    sink = open_sink(target)
    try:
        batch: list[dict[str, Any]] = []
        for event in events:
            batch.append(event)
            if len(batch) >= batch_size:
                await sink.send(batch)
                batch = []
        if batch:
            await sink.send(batch)
    finally:
        await sink.close()
    return sink.stats


@app.command()
def cdnow(
    out: OutOption = None,
    to: ToOption = None,
    path: Annotated[
        Path | None, typer.Option(help="CDNOW_master.txt (default: the one in lifetimes).")
    ] = None,
    source: Annotated[str, typer.Option(help=SourceHelp)] = "cdnow",
    customer_prefix: Annotated[str, typer.Option(help="Prepended to customer ids.")] = "",
    batch_size: BatchOption = 5000,
) -> None:
    """Replay the CDNOW transactions shipped with lifetimes (69,659 purchases, 1997-1998)."""
    target = _target(out, to)
    report = LoadReport()

    def counted() -> Iterator[dict[str, Any]]:
        for event in iter_cdnow(path, source=source, customer_prefix=customer_prefix):
            report.read += 1
            report.emitted += 1
            yield event

    _run(counted(), target, report, show_errors=0, batch_size=batch_size)


@app.command("csv")
def csv_command(
    file: Annotated[Path, typer.Argument(help="The CSV file (with a header line).")],
    out: OutOption = None,
    to: ToOption = None,
    customer_col: Annotated[str, typer.Option(help="Customer id column.")] = "customer_id",
    date_col: Annotated[str, typer.Option(help="Date or datetime column.")] = "date",
    amount_col: Annotated[str, typer.Option(help="Amount column (decimal >= 0).")] = "amount",
    currency_col: Annotated[str | None, typer.Option(help="Currency column.")] = None,
    currency: Annotated[
        str | None, typer.Option(help="Currency when there is no column or the cell is empty.")
    ] = None,
    order_col: Annotated[str | None, typer.Option(help="Order id column.")] = None,
    items_col: Annotated[str | None, typer.Option(help="Item count column.")] = None,
    date_format: Annotated[
        str | None, typer.Option(help="strptime format, e.g. %d/%m/%Y (default: ISO 8601).")
    ] = None,
    timezone: Annotated[str, typer.Option(help="Zone of dates without an offset.")] = "UTC",
    delimiter: Annotated[str, typer.Option(help="Field delimiter ('\\t' for tab).")] = ",",
    decimal_comma: Annotated[bool, typer.Option(help="Amounts are written 12,50.")] = False,
    encoding: Annotated[str, typer.Option(help="File encoding.")] = "utf-8-sig",
    source: Annotated[str, typer.Option(help=SourceHelp)] = "csv",
    customer_prefix: Annotated[str, typer.Option(help="Prepended to customer ids.")] = "",
    strict: Annotated[bool, typer.Option(help="Stop at the first bad row (exit 1).")] = False,
    show_errors: Annotated[int, typer.Option(help="Bad rows to print in the summary.")] = 20,
    batch_size: BatchOption = 5000,
) -> None:
    """Replay your own transactions: one purchase event per CSV row."""
    target = _target(out, to)
    try:
        mapping = CsvMapping(
            customer_id=customer_col,
            occurred_at=date_col,
            amount=amount_col,
            currency=currency_col,
            default_currency=currency.upper() if currency else None,
            order_id=order_col,
            items=items_col,
            date_format=date_format,
            timezone=timezone,
            delimiter="\t" if delimiter in ("\\t", "tab") else delimiter,
            decimal_comma=decimal_comma,
            source=source,
            customer_prefix=customer_prefix,
        )
    except LoaderError as exc:
        _fail(exc, 2)
    report = LoadReport(keep_errors=max(show_errors, 0))
    events = iter_csv(file, mapping, report=report, strict=strict, encoding=encoding)
    _run(events, target, report, show_errors=show_errors, batch_size=batch_size)


def _target(out: str | None, to: str | None) -> str:
    if (out is None) == (to is None):
        _fail(LoaderError("give exactly one of --out FILE and --to URL"), 2)
    if to is not None and not to.startswith(("http://", "https://", "kafka://")):
        _fail(LoaderError(f"--to must be http(s)://… or kafka://…, not {to!r}"), 2)
    return to or out or "-"


def _run(
    events: Iterable[dict[str, Any]],
    target: str,
    report: LoadReport,
    *,
    show_errors: int,
    batch_size: int,
) -> None:
    started = time.perf_counter()
    try:
        stats = asyncio.run(deliver(events, target, batch_size=batch_size))
    except (BadRowError, SinkError) as exc:
        _fail(exc, 1)
    except (LoaderError, OSError, UnicodeDecodeError) as exc:
        _fail(exc, 2)
    elapsed = time.perf_counter() - started
    rate = report.emitted / elapsed if elapsed > 0 else 0.0
    _say(f"{report.render()} in {elapsed:.2f} s ({rate:,.0f} events/s) -> {target}")
    shown = report.errors[:show_errors]
    for error in shown:
        _say(f"  {error}")
    if report.skipped_total > len(shown):
        _say(f"  ... {report.skipped_total - len(shown)} more")
    _say("receiver: " + ", ".join(f"{k} {v:,}" for k, v in stats.as_dict().items()))
    for rejection in stats.rejections[: max(show_errors, 5)]:
        _say(f"  rejected: {orjson.dumps(rejection).decode()[:300]}")
    if stats.rejected:
        raise typer.Exit(1)


def _say(text: str) -> None:
    _err.print(text, markup=False, highlight=False)


def _fail(exc: Exception, code: int) -> NoReturn:
    _say(f"error: {exc}")
    raise typer.Exit(code)


if __name__ == "__main__":
    app()
