"""Evaluate the alert rules of one market or coin against its stored grid and OI readings.

Runs in a Celery task after each grid computation, never on a page request.
Each rule looks for *findings* (a band, or an OI surge) and fires for at most
one per run, the largest first. Firing is two claims in one transaction:

1. insert the ``Alert`` row; the unique constraint on (rule, episode_key) makes
   a second worker, a retried task or a re-run evaluation fail here and skip;
2. move the rule's ``last_fired_at`` with a conditional update that only
   matches when the rule is not paused and its cooldown has passed; on
   PostgreSQL a racing update waits for the first to commit and then re-checks
   the condition, so two workers cannot both pass the cooldown.

If the second claim fails the transaction rolls back, the episode stays
unclaimed and may fire once the cooldown is over. The email is written to the
outbox in the same transaction and sent by its own task after commit.

Episodes: a band's episode is ``(interval, side, since)`` from the stored
analysis (see ``heatmaps/analysis.py``); an OI surge's is the first reading of
the current run of readings meeting the threshold (see ``alerts/oi.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts import oi
from alerts.emails import alert_email_queue
from alerts.links import absolute, heatmap_path
from alerts.models import Alert, AlertRule
from heatmaps.analysis import current_snapshot, largest_band
from heatmaps.formatting import pct, price, usd
from heatmaps.models import GridSnapshot, Market
from heatmaps.pages.query import BadQuery, ViewQuery
from heatmaps.pages.shares import create_share_link
from heatmaps.pages.snapshots import Target, coin_target, market_target

log = logging.getLogger(__name__)
Kind = AlertRule.Kind


@dataclass(frozen=True)
class Finding:
    episode_key: str
    summary: str
    details: dict
    heatmap_url: str  # the live heatmap view the rule watched
    usd: float = 0.0
    interval: str = ""  # the grid the finding was read from, to freeze that view
    method: str = ""


@dataclass
class EvaluationReport:
    rules: int = 0
    fired: list[int] = field(default_factory=list)  # alert ids
    outcomes: dict[int, str] = field(default_factory=dict)  # rule id → what happened

    def summary(self) -> str:
        return f"{self.rules} rule(s) evaluated, {len(self.fired)} alert(s) fired"


class _Quiet(Exception):
    """The rule is paused or cooling down: roll the claim back."""


def edge_distance_pct(band: dict, close: float) -> float:
    """How far price must move to reach the band's near edge, in % of price (0 inside the band)."""
    edge = band["low"] - close if band["side"] == "above" else close - band["high"]
    return max(0.0, edge / close * 100.0)


def _context(grid: GridSnapshot, label: str) -> dict:
    analysis = grid.analysis
    return {
        "target": label, "interval": grid.interval, "as_of": analysis.get("as_of"), "close": analysis.get("close"),
        "method": grid.long_share_method, "computed_at": grid.computed_at.isoformat(), "oi": analysis.get("oi") or {},
        "above": largest_band(analysis, "above"), "below": largest_band(analysis, "below"),
    }


def band_findings(rule: AlertRule, grid: GridSnapshot, label: str) -> list[Finding]:
    """Bands in the grid's analysis that meet a cluster or approach rule, largest first."""
    analysis = grid.analysis
    close = analysis.get("close")
    if not close:
        return []
    found = []
    for band in analysis.get("bands", ()):
        if not band.get("since") or band["usd"] < rule.min_usd or rule.side not in ("either", band["side"]):
            continue
        if rule.kind == Kind.CLUSTER:
            distance = abs(band["distance_pct"])
            if distance > rule.within_pct:
                continue
            if rule.require_strong and band.get("verdict") != "strong build-up":
                continue
            if (band.get("persistence_hours") or 0) < rule.min_persistence_hours:
                continue
            summary = (
                f"{label}: {usd(band['usd'])} band {band['side']} price at {price(band['low'])}–{price(band['high'])} "
                f"({pct(band['distance_pct'])}), {band.get('verdict', 'no verdict')}"
            )
        else:
            distance = edge_distance_pct(band, close)
            if distance > rule.within_pct:
                continue
            summary = (
                f"{label}: price {distance:.2f} % from a {usd(band['usd'])} band {band['side']} "
                f"({price(band['low'])}–{price(band['high'])})"
            )
        details = _context(grid, label) | {"band": band, "edge_distance_pct": edge_distance_pct(band, close)}
        found.append(Finding(
            episode_key=f"band:{grid.interval}:{grid.long_share_method}:{band['side']}:{band['since']}",
            summary=summary, details=details, usd=band["usd"],
            heatmap_url=absolute(heatmap_path(
                market_id=grid.market_id, coin=grid.coin, interval=grid.interval, method=grid.long_share_method,
            )),
            interval=grid.interval, method=grid.long_share_method,
        ))
    return sorted(found, key=lambda finding: finding.usd, reverse=True)


def surge_findings(rule: AlertRule, market: Market | None, coin: str, grid: GridSnapshot | None, label: str) -> list[Finding]:
    """The OI surge going on now, if it meets an OI-surge rule."""
    series = oi.oi_series(
        market_id=market.pk if market else None, coin=coin, interval=rule.interval,
        span=timedelta(hours=rule.oi_hours) + oi.EPISODE_LOOKBACK,
    )
    surge = oi.current_surge(series, hours=rule.oi_hours, threshold_pct=rule.oi_change_pct, direction=rule.oi_direction)
    if surge is None:
        return []
    change = surge.change
    details = (_context(grid, label) if grid else {"target": label, "interval": series.interval}) | {
        "oi_change": {
            "direction": surge.direction, "pct": change.pct, "hours": change.hours, "before": change.before, "after": change.after,
            "start": change.start.isoformat(), "end": change.end.isoformat(), "since": surge.since.isoformat(),
            "interval": series.interval,
        },
    }
    return [Finding(
        episode_key=f"oi:{series.interval}:{surge.direction}:{surge.since.isoformat()}",
        summary=f"{label}: open interest {pct(change.pct)} over {change.hours:g} h",
        details=details,
        heatmap_url=absolute(heatmap_path(
            market_id=market.pk if market else None, coin=coin, interval=grid.interval if grid else "",
            method=grid.long_share_method if grid else "",
        )),
        interval=grid.interval if grid else "", method=grid.long_share_method if grid else "",
    )]


def frozen_view_url(*, owner, market: Market | None, coin: str, finding: Finding) -> str:
    """A frozen share link (the owner's, revocable) of the view the finding was read from: the heatmap
    as it was when the alert fired, which later computations do not change. The live view when none can be made."""
    if not finding.interval:
        return finding.heatmap_url
    target = market_target(market.pk) if market else coin_target(coin)
    try:
        link = create_share_link(
            owner=owner, target=target, query=ViewQuery(interval=finding.interval, method=finding.method), frozen=True,
        )
    except BadQuery as error:
        log.warning("no frozen view for alert %s: %s", finding.episode_key, error)
        return finding.heatmap_url
    return absolute(link.get_absolute_url())


def claim(rule: AlertRule, finding: Finding, *, market: Market | None, coin: str) -> tuple[str, Alert | None]:
    """Fire ``finding`` for ``rule``: ("fired", alert), or ("taken", None) when its episode already
    fired, or ("quiet", None) when the rule is paused or cooling down."""
    now = timezone.now()
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule, user_id=rule.user_id, market=market, coin="" if market else coin, episode_key=finding.episode_key,
                fired_at=now, kind=rule.kind, rule_text=rule.describe()[:300], summary=finding.summary[:300],
                details=finding.details, heatmap_url=finding.heatmap_url,
            )
            # Freeze the view before claiming the rule: the claim's UPDATE locks the
            # rule row until commit, and building the view takes a while.
            alert.heatmap_url = frozen_view_url(owner=rule.user, market=market, coin=coin, finding=finding)
            alert.details = {**alert.details, "live_url": finding.heatmap_url}
            cooled = Q(last_fired_at__isnull=True) | Q(last_fired_at__lt=now - rule.cooldown)
            if not AlertRule.objects.filter(cooled, pk=rule.pk, paused=False).update(last_fired_at=now):
                raise _Quiet
            alert.message = alert_email_queue(alert=alert, rule=rule)
            alert.save(update_fields=["message", "heatmap_url", "details"])
    except IntegrityError:
        return "taken", None
    except _Quiet:
        return "quiet", None
    return "fired", alert


def rules_evaluate(*, market_id: int | None = None, coin: str = "") -> EvaluationReport:
    """Evaluate every active rule on one market (or one coin) and fire what is due."""
    report = EvaluationReport()
    market = Market.objects.select_related("exchange").filter(pk=market_id).first() if market_id else None
    if market_id and market is None:
        return report
    coin = "" if market else coin.upper()
    rules = AlertRule.objects.filter(paused=False).select_related("user")
    rules = rules.filter(market=market) if market else rules.filter(market__isnull=True, coin=coin)
    label = Target(market=market, coin=coin).title
    grids: dict[str, GridSnapshot | None] = {}
    now = timezone.now()
    for rule in rules:
        report.rules += 1
        if rule.last_fired_at and rule.last_fired_at >= now - rule.cooldown:
            report.outcomes[rule.pk] = "cooling down"
            continue
        if rule.interval not in grids:
            grids[rule.interval] = current_snapshot(market=market, coin=coin, interval=rule.interval)
        grid = grids[rule.interval]
        if rule.kind == Kind.OI_SURGE:
            findings = surge_findings(rule, market, coin, grid, label)
        else:
            findings = band_findings(rule, grid, label) if grid else []
        fired_keys = set(Alert.objects.filter(rule=rule, episode_key__in=[f.episode_key for f in findings]).values_list("episode_key", flat=True))
        report.outcomes[rule.pk] = "nothing found" if not findings else "already alerted"
        for finding in findings:
            if finding.episode_key in fired_keys:
                continue
            outcome, alert = claim(rule, finding, market=market, coin=coin)
            report.outcomes[rule.pk] = {"fired": "fired", "taken": "already alerted", "quiet": "paused or cooling down"}[outcome]
            if outcome == "fired":
                report.fired.append(alert.pk)
                log.info("alert %s fired for rule %s: %s", alert.pk, rule.pk, finding.summary)
            if outcome != "taken":
                break
    return report
