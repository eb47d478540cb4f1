"""Refresh markets now, in this process, printing one progress line per market."""

from django.core.management.base import BaseCommand, CommandError

from markets.models import Market
from markets.refresh import RefreshFailed, market_refresh
from markets.signals import market_refreshed


class Command(BaseCommand):
    help = "Fetch and store what is new for one market, several, or all active ones (synchronously)."

    def add_arguments(self, parser):
        parser.add_argument(
            "markets",
            nargs="*",
            help="Market ids or EXCHANGE:SYMBOL (e.g. sample:BTCUSDT). Default: every active market.",
        )
        parser.add_argument("--all", action="store_true", help="Include inactive markets too.")
        parser.add_argument(
            "--no-compute",
            action="store_true",
            help="Do not queue the grid computation of refreshed markets (for a caller that runs `compute` itself).",
        )

    def handle(self, *args, markets, all, no_compute, **options):
        selected = select_markets(markets, include_inactive=all)
        if not selected:
            self.stdout.write("No markets to refresh. Add some in the admin or run `manage.py setup_sample`.")
            return
        failures = 0
        for number, market in enumerate(selected, start=1):
            prefix = f"[{number}/{len(selected)}] {market.exchange.plugin}:{market.symbol}"
            self.stdout.write(f"{prefix} …")
            try:
                report = market_refresh(market.pk, progress=self.stdout.write)
            except RefreshFailed as error:
                failures += 1
                self.stdout.write(self.style.WARNING(f"{prefix} failed, will succeed on a later try: {error}"))
                continue
            if report.ok:
                self.stdout.write(self.style.SUCCESS(f"{prefix} done: {report.summary()}"))
                if not no_compute:
                    self._queue_grids(market, report)
            else:
                failures += 1
                state = "stopped" if report.deactivated else "error"
                self.stdout.write(self.style.ERROR(f"{prefix} {state}: {report.error}"))
        if failures:
            raise CommandError(f"{failures} of {len(selected)} markets failed; see the lines above")

    def _queue_grids(self, market, report) -> None:
        # What the periodic task does after a refresh. Without it, rows stored here would never get
        # their grids: the next periodic refresh finds nothing new, so it queues nothing either.
        market_refreshed.send(sender=Market, market_id=market.pk, changed=report.changed)
        if report.changed:
            self.stdout.write("  grids: queued for computing by the worker (or run `manage.py compute` now)")


def select_markets(names, *, include_inactive):
    """Markets named by id or EXCHANGE:SYMBOL, or every active one when none are named."""
    queryset = Market.objects.select_related("exchange")
    if not names:
        return list(queryset if include_inactive else queryset.filter(active=True, exchange__enabled=True))
    selected = []
    for name in names:
        if name.isdigit():
            market = queryset.filter(pk=int(name)).first()
        elif ":" in name:
            plugin, symbol = name.split(":", 1)
            market = queryset.filter(exchange__plugin=plugin, symbol=symbol).first()
        else:
            raise CommandError(f"{name!r}: give a market id or EXCHANGE:SYMBOL, e.g. sample:BTCUSDT")
        if market is None:
            raise CommandError(f"no market {name!r}")
        selected.append(market)
    return selected
