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
analysis (see ``grids/analysis.py``); an OI surge's is the first reading of
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
from alerts.services.volatility import volatility_findings
from grids.analysis import current_snapshot, largest_band
from grids.models import GridSnapshot
from grids.selectors import grid_intervals
from grids.targets import Target
from heatmaps.share_links import create_share_link
from heatmaps.viewing.query import BadQuery, ViewQuery
from liqsite.formatting import pct, price, usd
from markets.models import Market

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
        "target": label,
        "interval": grid.interval,
        "as_of": analysis.get("as_of"),
        "close": analysis.get("close"),
        "method": grid.long_share_method,
        "computed_at": grid.computed_at.isoformat(),
        "oi": analysis.get("oi") or {},
        "above": largest_band(analysis, "above"),
        "below": largest_band(analysis, "below"),
        "readings": analysis.get("readings"),
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
        found.append(
            Finding(
                episode_key=f"band:{grid.interval}:{grid.long_share_method}:{band['side']}:{band['since']}",
                summary=summary,
                details=details,
                usd=band["usd"],
                heatmap_url=absolute(heatmap_path(grid.target, interval=grid.interval, method=grid.long_share_method)),
                interval=grid.interval,
                method=grid.long_share_method,
            )
        )
    return sorted(found, key=lambda finding: finding.usd, reverse=True)


def surge_findings(rule: AlertRule, target: Target, grid: GridSnapshot | None, label: str) -> list[Finding]:
    """The OI surge going on now, if it meets an OI-surge rule."""
    series = oi.oi_series(target, interval=rule.interval, span=timedelta(hours=rule.oi_hours) + oi.EPISODE_LOOKBACK)
    surge = oi.current_surge(series, hours=rule.oi_hours, threshold_pct=rule.oi_change_pct, direction=rule.oi_direction)
    if surge is None:
        return []
    change = surge.change
    details = (_context(grid, label) if grid else {"target": label, "interval": series.interval}) | {
        "oi_change": {
            "direction": surge.direction,
            "pct": change.pct,
            "hours": change.hours,
            "before": change.before,
            "after": change.after,
            "start": change.start.isoformat(),
            "end": change.end.isoformat(),
            "since": surge.since.isoformat(),
            "interval": series.interval,
        },
    }
    return [
        Finding(
            episode_key=f"oi:{series.interval}:{surge.direction}:{surge.since.isoformat()}",
            summary=f"{label}: open interest {pct(change.pct)} over {change.hours:g} h",
            details=details,
            heatmap_url=absolute(
                heatmap_path(
                    target,
                    interval=grid.interval if grid else "",
                    method=grid.long_share_method if grid else "",
                )
            ),
            interval=grid.interval if grid else "",
            method=grid.long_share_method if grid else "",
        )
    ]


def rule_findings(rule: AlertRule, target: Target, grid: GridSnapshot | None, label: str) -> list[Finding]:
    """What ``rule`` finds on ``grid`` (and the OI readings) now, largest first; fires nothing."""
    if rule.kind == Kind.OI_SURGE:
        return surge_findings(rule, target, grid, label)
    if rule.kind == Kind.VOLATILITY:
        return [Finding(**f) for f in volatility_findings(rule, grid, label, context=_context(grid, label))] if grid else []
    return band_findings(rule, grid, label) if grid else []


@dataclass(frozen=True)
class RuleCheck:
    """A dry run of one rule on the current map: what it would say, without an alert, a row or an email."""

    grid: GridSnapshot | None
    findings: list[Finding]
    due: list[Finding]  # findings whose episode has not fired yet
    quiet: str = ""  # why nothing would be sent now ("paused", "cooling down until …"), else empty
    intervals: list[str] = field(default_factory=list)  # the intervals with a grid, when the rule's has none

    @property
    def largest_above(self) -> dict | None:
        return largest_band(self.grid.analysis, "above") if self.grid else None

    @property
    def largest_below(self) -> dict | None:
        return largest_band(self.grid.analysis, "below") if self.grid else None

    @property
    def would_fire(self) -> Finding | None:
        """The alert an evaluation now would send (the largest due finding), or None."""
        return self.due[0] if self.due and not self.quiet else None


def rule_check(rule: AlertRule) -> RuleCheck:
    """Evaluate one rule on its target's current grid as ``rules_evaluate`` would, but claim and send nothing."""
    target = rule.target.loaded()
    grid = current_snapshot(target, interval=rule.interval)
    findings = rule_findings(rule, target, grid, target.title)
    fired = set(
        Alert.objects.filter(rule=rule, episode_key__in=[f.episode_key for f in findings]).values_list("episode_key", flat=True)
    )
    quiet = ""
    if rule.paused:
        quiet = "the rule is paused"
    elif rule.last_fired_at and rule.last_fired_at >= timezone.now() - rule.cooldown:
        quiet = f"the rule is cooling down until {(rule.last_fired_at + rule.cooldown):%Y-%m-%d %H:%M} UTC"
    return RuleCheck(
        grid=grid,
        findings=findings,
        due=[f for f in findings if f.episode_key not in fired],
        quiet=quiet,
        intervals=[] if grid else grid_intervals(target),
    )


def frozen_view_url(*, owner, target: Target, finding: Finding) -> str:
    """A frozen share link (the owner's, revocable) of the view the finding was read from: the heatmap
    as it was when the alert fired, which later computations do not change. The live view when none can be made."""
    if not finding.interval:
        return finding.heatmap_url
    try:
        link = create_share_link(
            owner=owner,
            target=target,
            query=ViewQuery(interval=finding.interval, method=finding.method),
            frozen=True,
        )
    except BadQuery as error:
        log.warning("no frozen view for alert %s: %s", finding.episode_key, error)
        return finding.heatmap_url
    return absolute(link.get_absolute_url())


def claim(rule: AlertRule, finding: Finding, *, target: Target) -> tuple[str, Alert | None]:
    """Fire ``finding`` for ``rule``: ("fired", alert), or ("taken", None) when its episode already
    fired, or ("quiet", None) when the rule is paused or cooling down."""
    now = timezone.now()
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                user_id=rule.user_id,
                market_id=target.market_id,
                coin=target.coin,
                episode_key=finding.episode_key,
                fired_at=now,
                kind=rule.kind,
                rule_text=rule.describe()[:300],
                summary=finding.summary[:300],
                details=finding.details,
                heatmap_url=finding.heatmap_url,
            )
            # Freeze the view before claiming the rule: the claim's UPDATE locks the
            # rule row until commit, and building the view takes a while.
            alert.heatmap_url = frozen_view_url(owner=rule.user, target=target, finding=finding)
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


def rules_evaluate(target: Target) -> EvaluationReport:
    """Evaluate every active rule on one market (or one coin) and fire what is due."""
    report = EvaluationReport()
    try:
        target = target.loaded()
    except Market.DoesNotExist:
        return report
    rules = AlertRule.objects.filter(paused=False, **target.lookup()).select_related("user")
    label = target.title
    grids: dict[str, GridSnapshot | None] = {}
    now = timezone.now()
    for rule in rules:
        report.rules += 1
        if rule.last_fired_at and rule.last_fired_at >= now - rule.cooldown:
            report.outcomes[rule.pk] = "cooling down"
            continue
        if rule.interval not in grids:
            grids[rule.interval] = current_snapshot(target, interval=rule.interval)
        findings = rule_findings(rule, target, grids[rule.interval], label)
        fired_keys = set(
            Alert.objects.filter(rule=rule, episode_key__in=[f.episode_key for f in findings]).values_list(
                "episode_key", flat=True
            )
        )
        report.outcomes[rule.pk] = "nothing found" if not findings else "already alerted"
        for finding in findings:
            if finding.episode_key in fired_keys:
                continue
            outcome, alert = claim(rule, finding, target=target)
            report.outcomes[rule.pk] = {"fired": "fired", "taken": "already alerted", "quiet": "paused or cooling down"}[outcome]
            if outcome == "fired":
                report.fired.append(alert.pk)
                log.info("alert %s fired for rule %s: %s", alert.pk, rule.pk, finding.summary)
            if outcome != "taken":
                break
    return report
