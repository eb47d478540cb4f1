"""Enable a bundled sample, add its markets and load their data.

Two samples ship with liqsite, both real recorded data that need no network:

- the three-exchange sample (the default; MIT): BTC and SOL perpetuals on
  stand-ins for Binance, Bybit and OKX over the same hours of January–March
  2026, so the coin pages sum three exchanges;
- the single-exchange sample (``--single-exchange``; its sources state no
  licence): Binance BTCUSDT through the May 2024 sell-off at 15m, and OKX
  SOL-USDT-SWAP in June 2026 at 5m to 1h.

Both have BTC and SOL markets, and a coin page sums every enabled exchange's
markets of that coin, so loading one sample disables the other's exchanges
(their data stay): a coin map never mixes 2024 with 2026.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from markets.models import Exchange, Market

# Exchange plugin -> market -> intervals to ingest. All recorded at 1h only.
THREE_EXCHANGE_MARKETS = {
    "sample_binance": {"BTCUSDT": ["1h"], "SOLUSDT": ["1h"]},
    "sample_bybit": {"BTCUSDT": ["1h"], "SOLUSDT": ["1h"]},
    "sample_okx": {"BTC-USDT-SWAP": ["1h"], "SOL-USDT-SWAP": ["1h"]},
}
# Market -> intervals of the single-exchange sample. Its BTCUSDT was recorded at 15m only.
SAMPLE_MARKETS = {"BTCUSDT": ["15m"], "SOL-USDT-SWAP": ["5m", "15m", "1h"]}
SAMPLES = {"three-exchange": THREE_EXCHANGE_MARKETS, "single-exchange": {"sample": SAMPLE_MARKETS}}


class Command(BaseCommand):
    help = (
        "Enable a bundled offline sample (default: BTC and SOL on Binance, Bybit and OKX stand-ins, 2026), "
        "ingest it, compute its grids and score them (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--single-exchange",
            action="store_true",
            help="Load the earlier single-exchange sample instead (Binance BTCUSDT May 2024, OKX SOL-USDT-SWAP June 2026; "
            "its sources state no licence).",
        )

    def handle(self, *args, single_exchange, **options):
        chosen = SAMPLES["single-exchange" if single_exchange else "three-exchange"]
        others = {plugin for sample in SAMPLES.values() if sample is not chosen for plugin in sample}
        switched_off = Exchange.objects.filter(plugin__in=others, enabled=True)
        for exchange in switched_off:
            self.stdout.write(f"Disabled exchange {exchange.label} (the other sample; its data stay)")
        switched_off.update(enabled=False)
        names = []
        for plugin, markets in chosen.items():
            names += self._add(plugin, markets)
        call_command("refresh", *names, "--no-compute", stdout=self.stdout)  # computed on the next line
        call_command("compute", *names, stdout=self.stdout)
        # Score the map at once, so the accuracy pages have something to show before the daily run.
        call_command("backtest", *names, "--no-progress", stdout=self.stdout)

    def _add(self, plugin: str, markets: dict[str, list[str]]) -> list[str]:
        exchange, created = Exchange.objects.get_or_create(plugin=plugin, defaults={"enabled": True})
        if not exchange.enabled:
            exchange.enabled = True
            exchange.save(update_fields=["enabled"])
        self.stdout.write(f"{'Enabled' if created else 'Found'} exchange {exchange.label}")
        with exchange.client() as client:
            for symbol, intervals in markets.items():
                instrument = client.instrument(symbol)
                market, created = Market.objects.get_or_create(
                    exchange=exchange,
                    symbol=symbol,
                    defaults={
                        "base": instrument.base,
                        "quote": instrument.quote,
                        "contract_type": instrument.contract_type,
                        "contract_size": instrument.contract_size,
                        "tick_size": instrument.tick_size,
                        "note": instrument.note,
                        "intervals": intervals,
                    },
                )
                self.stdout.write(f"{'Added' if created else 'Found'} market {symbol} ({', '.join(market.intervals)})")
        return [f"{plugin}:{symbol}" for symbol in markets]
