"""Compute and store liquidation grids now, in this process, with a line per snapshot."""

from django.core.management.base import BaseCommand, CommandError

from grids.computation import grids_compute
from grids.targets import Target
from markets.management.commands.refresh import select_markets


class Command(BaseCommand):
    help = "Compute the grids of markets (default: every active one) and of their coins' aggregates."

    def add_arguments(self, parser):
        parser.add_argument("markets", nargs="*", help="Market ids or EXCHANGE:SYMBOL. Default: every active market.")
        parser.add_argument("--no-coins", action="store_true", help="Skip the per-coin aggregates.")

    def handle(self, *args, markets, no_coins, **options):
        selected = select_markets(markets, include_inactive=False)
        if not selected:
            self.stdout.write("No markets to compute.")
            return
        failures = 0
        for number, market in enumerate(selected, start=1):
            prefix = f"[{number}/{len(selected)}] {market.exchange.plugin}:{market.symbol}"
            failures += self._run(prefix, Target.of_market(market))
        if not no_coins:
            for coin in sorted({market.base for market in selected if market.base}):
                failures += self._run(f"[coin] {coin}", Target.of_coin(coin))
        if failures:
            raise CommandError(f"{failures} computation(s) failed; see the lines above")

    def _run(self, prefix: str, target: Target) -> int:
        self.stdout.write(f"{prefix} …")
        try:
            outcomes = grids_compute(target)
        except ValueError as error:
            self.stdout.write(self.style.ERROR(f"{prefix} failed: {error}"))
            return 1
        for outcome in outcomes:
            self.stdout.write(f"  {outcome.line()}")
        stored = sum(o.status == "stored" for o in outcomes)
        self.stdout.write(self.style.SUCCESS(f"{prefix} done: {stored} stored, {len(outcomes) - stored} unchanged or skipped"))
        if any(o.status != "skipped" for o in outcomes):
            # grids_compute announced the grids (grids_stored): the worker checks the alert rules on them.
            self.stdout.write("  alert rules on it: queued for checking")
        return 0
