"""Import one series of one market from a CSV file (all rows or none)."""

from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from liqsite.exchanges import INTERVALS
from liqsite.exchanges.oi_stamps import OI_STAMPS
from markets.csv_import import CsvError, import_series_csv
from markets.ingest import IngestError
from markets.management.commands.refresh import unknown_market
from markets.models import Market
from markets.series_kinds import SERIES


def _when(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"{value!r} is not an ISO date or time (e.g. 2026-03-01 or 2026-03-01T12:00Z)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Import a CSV of standard columns into a market's series. Columns: time plus, for candles: "
        "open,high,low,close,volume[,taker_buy_volume]; open_interest: open_interest[,open_interest_usd]; "
        "long_short: long_share; funding: rate; liquidations: long_usd,short_usd (per-step totals, time = the "
        "step's open) or side,price,quantity[,usd] (single liquidations, sorted by time). time is ISO-8601 with "
        "offset or epoch milliseconds. The file is UTF-8 and is imported whole or not at all."
    )

    def add_arguments(self, parser):
        parser.add_argument("market", help="EXCHANGE:SYMBOL, e.g. sample_binance:BTCUSDT")
        parser.add_argument("kind", choices=sorted(SERIES))
        parser.add_argument("csv_file", type=Path)
        parser.add_argument(
            "--interval",
            choices=INTERVALS,
            help="Step interval (required except for funding and single liquidations).",
        )
        parser.add_argument(
            "--oi-stamp",
            choices=OI_STAMPS,
            help="Open interest only, and required for it: 'open' when each row's time is the instant the reading was "
            "taken (Binance, Bybit and OKX history: the open of the step starting then), 'close' when the reading "
            "was taken at the close of the step starting at that time (stored one step later).",
        )
        parser.add_argument(
            "--covers-from",
            type=_when,
            help="Single liquidations only: the file holds every liquidation from this time (default: its first record).",
        )
        parser.add_argument(
            "--covers-until",
            type=_when,
            help="Single liquidations only: ... until this time, exclusive (default: just after its last record).",
        )

    def handle(self, *args, market, kind, csv_file, interval, oi_stamp, covers_from, covers_until, **options):
        series = SERIES[kind]
        # Liquidations need an interval only as per-step totals; the file's header says which it is.
        if series.per_interval and not interval and kind != "liquidations":
            raise CommandError(f"--interval is required for {kind}")
        if kind == "open_interest" and oi_stamp is None:
            # A reading read one step off shifts every level on the map by a step and looks fine: never guess.
            raise CommandError(
                "--oi-stamp is required for open_interest: 'open' if each time is the instant the reading was taken, "
                "'close' if it was taken at the close of the step starting at that time"
            )
        if kind != "open_interest" and oi_stamp is not None:
            raise CommandError(f"--oi-stamp applies to open_interest only, not {kind}")
        plugin, _, symbol = market.partition(":")
        target = Market.objects.filter(exchange__plugin=plugin, symbol=symbol).first()
        if target is None:
            raise unknown_market(market)
        try:
            with csv_file.open("rb") as handle:
                result = import_series_csv(
                    target,
                    kind,
                    interval,
                    handle,
                    oi_stamp=oi_stamp,
                    covers=(covers_from, covers_until),
                    source=csv_file.name,
                )
        except OSError as error:
            raise CommandError(f"{csv_file}: {error.strerror or error}") from None
        except (CsvError, IngestError) as error:
            raise CommandError(f"{csv_file}: {error}") from None
        self.stdout.write(
            self.style.SUCCESS(f"{csv_file}: {result.created} new, {result.updated} updated, {result.unchanged} unchanged rows")
        )
        if result.covered is not None:
            start, end = result.covered
            self.stdout.write(
                f"Liquidations of {target.symbol} are taken as fully known from {start.isoformat()} to {end.isoformat()} "
                "(a step inside without a record counts as a measured zero); widen it with --covers-from/--covers-until."
            )
