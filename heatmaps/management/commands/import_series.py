"""Import one series of one market from a CSV file (all rows or none)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from heatmaps.csv_import import CsvError, read_series_csv
from heatmaps.ingest import IngestError, ingest_batch
from heatmaps.models import Market
from heatmaps.series import SERIES
from liqsite.exchanges import INTERVALS


class Command(BaseCommand):
    help = (
        "Import a CSV of standard columns into a market's series. Columns: time plus, for candles: "
        "open,high,low,close,volume[,taker_buy_volume]; open_interest: open_interest[,open_interest_usd]; "
        "long_short: long_share; funding: rate. time is ISO-8601 with offset or epoch milliseconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("market", help="EXCHANGE:SYMBOL, e.g. sample:BTCUSDT")
        parser.add_argument("kind", choices=sorted(SERIES))
        parser.add_argument("csv_file", type=Path)
        parser.add_argument("--interval", choices=INTERVALS, help="Step interval (required except for funding).")

    def handle(self, *args, market, kind, csv_file, interval, **options):
        series = SERIES[kind]
        if series.per_interval and not interval:
            raise CommandError(f"--interval is required for {kind}")
        plugin, _, symbol = market.partition(":")
        target = Market.objects.filter(exchange__plugin=plugin, symbol=symbol).first()
        if target is None:
            raise CommandError(f"no market {market!r} (expected EXCHANGE:SYMBOL of an existing market)")
        try:
            with csv_file.open(newline="") as handle:
                rows, lines = read_series_csv(series, handle)
        except OSError as error:
            raise CommandError(f"{csv_file}: {error.strerror}") from None
        except CsvError as error:
            raise CommandError(f"{csv_file}: {error}") from None
        try:
            result = ingest_batch(target, kind, interval, rows, describe=lambda index: f"line {lines[index]}")
        except IngestError as error:
            raise CommandError(f"{csv_file}: {error}") from None
        self.stdout.write(self.style.SUCCESS(
            f"{csv_file}: {result.created} new, {result.updated} updated, {result.unchanged} unchanged rows"
        ))
