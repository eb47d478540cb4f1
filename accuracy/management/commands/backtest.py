"""Backtest markets now, in this process: a progress bar on stderr, the scores table on stdout."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from accuracy.coin_backtest import coin_backtest
from accuracy.progress import ProgressBar
from accuracy.readings_service import market_readings_backtest
from accuracy.readings_table import text_table as readings_table
from accuracy.service import FIT_SHARE, BacktestUnavailable, market_backtest
from accuracy.table import describe_period, text_side_table, text_table
from liqsite.exchanges import INTERVAL_SECONDS
from markets.management.commands.refresh import select_markets


def _when(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not an ISO date or time (e.g. 2026-06-01 or 2026-06-01T12:00Z)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Replay the model on markets' stored history, score every variant and every baseline on the held-out "
        "part of the period, print the table and store it for the accuracy pages."
    )

    def add_arguments(self, parser):
        parser.add_argument("markets", nargs="*", help="Market ids or EXCHANGE:SYMBOL. Default: every active market.")
        parser.add_argument(
            "--interval",
            choices=list(INTERVAL_SECONDS),
            help="Step interval (default: the finest stored one at least as long as the OI readings' spacing).",
        )
        parser.add_argument("--start", type=_when, help="Start of the period (UTC). Default: 30 days before its end.")
        parser.add_argument("--end", type=_when, help="End of the period (UTC). Default: the last stored step.")
        parser.add_argument(
            "--fit-share",
            type=float,
            default=FIT_SHARE,
            help=f"Share of the period (by time) used to fit; the rest is scored (default {FIT_SHARE}).",
        )
        parser.add_argument(
            "--coin",
            help="Score this coin's aggregate (its markets summed, e.g. BTC) against their liquidations together, "
            "beside each market alone, on the steps where all of them have real liquidations (printed, not stored).",
        )
        parser.add_argument("--no-store", action="store_true", help="Print only; leave the stored reports alone.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, markets, interval, start, end, fit_share, no_store, no_progress, coin, **options):
        if not 0 < fit_share < 1:
            raise CommandError(f"--fit-share must lie strictly between 0 and 1, got {fit_share}")
        if coin:
            if markets:
                raise CommandError("give either markets or --coin, not both")
            return self._coin(coin.upper(), interval or "1h", start, end, fit_share)
        selected = select_markets(markets, include_inactive=False)
        if not selected:
            self.stdout.write("No markets to backtest. Add some in the admin or run `manage.py setup_sample`.")
            return
        winners_everywhere = None
        failures = 0
        for number, market in enumerate(selected, start=1):
            prefix = f"[{number}/{len(selected)}] {market.exchange.plugin}:{market.symbol} "
            bar = (
                None
                if no_progress
                else ProgressBar(lambda s: self.stderr.write(s, ending=""), prefix=prefix, tty=self.stderr.isatty())
            )
            try:
                run = market_backtest(
                    market.pk, interval=interval, start=start, end=end, fit_share=fit_share, progress=bar, store=not no_store
                )
            except BacktestUnavailable as error:
                failures += 1
                self.stdout.write(self.style.WARNING(f"{prefix}skipped: {error}"))
                continue
            finally:
                if bar is not None:
                    bar.close()
            results = run.result.to_dict() | {"site_variant": {"key": "reference"}}
            self.stdout.write(self.style.MIGRATE_HEADING(f"{prefix}at {run.interval}"))
            self.stdout.write(describe_period(results))
            self.stdout.write(text_table(results))
            if run.result.info.get("held_out_sided_steps"):
                self.stdout.write(
                    f"Against real liquidations per side ({run.result.info['held_out_sided_steps']} held-out steps; "
                    "Spearman and top-decile with block-bootstrap 95 % intervals):"
                )
                self.stdout.write(text_side_table(results))
            won = {k for k, v in results["verdicts"].items() if v["beats_all"]}
            self.stdout.write(f"Beats the reference and every baseline here: {', '.join(sorted(won)) or 'none'}")
            self._readings(market, interval, fit_share, no_store)
            if not no_store:
                self.stdout.write(f"Stored; shown at /markets/{market.pk}/accuracy/")
            self.stdout.write("")
            winners_everywhere = won if winners_everywhere is None else winners_everywhere & won
        if winners_everywhere is not None:
            self.stdout.write(
                self.style.SUCCESS(
                    "Variants that beat the reference and every baseline on every market backtested: "
                    + (", ".join(sorted(winners_everywhere)) or "none")
                )
            )
        if failures and failures == len(selected):
            raise CommandError("no market could be backtested; see the lines above")

    def _coin(self, coin, interval, start, end, fit_share):
        try:
            run = coin_backtest(coin, interval=interval, start=start, end=end, fit_share=fit_share)
        except BacktestUnavailable as error:
            raise CommandError(str(error)) from None
        info = run.result.info
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"{coin}: {len(run.markets)} markets summed at {interval}")
            + f"\n{info['steps']} common steps with real liquidations on every market; "
            f"{info['held_out_sided_steps']} held out from the split, scored per side:"
        )
        self.stdout.write(text_side_table(run.result.to_dict()))
        for name, result in run.singles.items():
            self.stdout.write(f"\n{name} alone, against the same liquidations:")
            self.stdout.write(text_side_table(result.to_dict()))

    def _readings(self, market, interval, fit_share, no_store):
        """The four map readings' table: how often each came true on the held-out part."""
        try:
            run = market_readings_backtest(market.pk, interval=interval, fit_share=fit_share, store=not no_store)
        except BacktestUnavailable as error:
            self.stdout.write(self.style.WARNING(f"Map readings not scored: {error}"))
            return
        self.stdout.write(f"Map readings at {run.interval} (held-out events; parameters fitted on the first part):")
        self.stdout.write(readings_table(run.results))
