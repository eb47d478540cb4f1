"""Enable the bundled sample exchange, add its markets and load their data."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from heatmaps.models import Exchange, Market

# Market -> intervals to ingest. The sample's BTCUSDT was recorded at 15m only.
SAMPLE_MARKETS = {"BTCUSDT": ["15m"], "SOL-USDT-SWAP": ["5m", "15m", "1h"]}


class Command(BaseCommand):
    help = "Enable the offline sample exchange with its two real recorded markets, ingest them, compute their grids and score them (idempotent)."

    def handle(self, *args, **options):
        exchange, created = Exchange.objects.get_or_create(plugin="sample", defaults={"enabled": True})
        if not exchange.enabled:
            exchange.enabled = True
            exchange.save(update_fields=["enabled"])
        self.stdout.write(f"{'Enabled' if created else 'Found'} exchange {exchange.label}")
        with exchange.client() as plugin:
            for symbol, intervals in SAMPLE_MARKETS.items():
                instrument = plugin.instrument(symbol)
                market, created = Market.objects.get_or_create(
                    exchange=exchange, symbol=symbol,
                    defaults={
                        "base": instrument.base, "quote": instrument.quote,
                        "contract_type": instrument.contract_type, "contract_size": instrument.contract_size,
                        "tick_size": instrument.tick_size, "note": instrument.note, "intervals": intervals,
                    },
                )
                self.stdout.write(f"{'Added' if created else 'Found'} market {symbol} ({', '.join(market.intervals)})")
        names = [f"sample:{symbol}" for symbol in SAMPLE_MARKETS]
        call_command("refresh", *names, stdout=self.stdout)
        call_command("compute", *names, stdout=self.stdout)
        # Score the map at once, so the accuracy pages have something to show before the daily run.
        call_command("backtest", *names, "--no-progress", stdout=self.stdout)
