"""Forms of the alerts pages. They validate input; writes happen in ``alerts.services``."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from alerts.models import AlertRule
from alerts.selectors import target_choices
from grids.selectors import grid_intervals
from grids.targets import Target
from markets.models import Market


class TargetField(forms.ChoiceField):
    """A market (``m:<id>``) or a coin (``c:<COIN>``), cleaned to ``(market, coin)``."""

    def __init__(self, **kwargs):
        super().__init__(choices=target_choices, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        kind, _, key = value.partition(":")
        if kind == "m":
            market = Market.objects.select_related("exchange").filter(pk=int(key)).first()
            if market is None:
                raise ValidationError("That market no longer exists.", code="invalid_choice")
            return market, ""
        return None, key


class WatchlistAddForm(forms.Form):
    target = TargetField(label="Market or coin")


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class PauseForm(forms.Form):
    paused = forms.TypedChoiceField(choices=[("1", "Pause"), ("0", "Resume")], coerce=lambda value: value == "1")


class RuleForm(forms.ModelForm):
    """One form for the four kinds; fields a kind does not use are kept but ignored."""

    target = TargetField(label="Market or coin")

    class Meta:
        model = AlertRule
        fields = [
            "kind",
            "interval",
            "side",
            "within_pct",
            "min_usd",
            "require_strong",
            "min_persistence_hours",
            "oi_direction",
            "oi_change_pct",
            "oi_hours",
            "pressure_pct",
            "cooldown_minutes",
        ]
        labels = {
            "within_pct": "Within (% of price)",
            "min_usd": "Worth at least (USD)",
            "require_strong": 'Only "strong build-up"',
            "min_persistence_hours": "Standing at least (hours)",
            "oi_direction": "OI moves",
            "oi_change_pct": "By at least (%)",
            "oi_hours": "Over (hours)",
            "cooldown_minutes": "Cooldown (minutes)",
            "interval": "Grid interval",
            "pressure_pct": "Pressure within",
        }
        help_texts = {
            "interval": "Empty: the finest grid computed for the market.",
            "within_pct": "Distance between price and the band.",
            "min_usd": "Estimated liquidations in the band.",
            "require_strong": "Band brightening while open interest rises.",
            "min_persistence_hours": "How long the band has stood (0: any).",
            "oi_change_pct": "Change of open interest (base units).",
            "oi_hours": "Window the change is measured over.",
            "cooldown_minutes": "No other alert from this rule for this long after one fired.",
        }
        widgets = {
            "within_pct": forms.NumberInput(attrs={"step": "any", "min": "0.1", "max": "50"}),
            "min_usd": forms.NumberInput(attrs={"step": "any", "min": "0"}),
            "min_persistence_hours": forms.NumberInput(attrs={"step": "any", "min": "0", "max": "720"}),
            "oi_change_pct": forms.NumberInput(attrs={"step": "any", "min": "0.1", "max": "1000"}),
            "oi_hours": forms.NumberInput(attrs={"step": "any", "min": "0.25", "max": "720"}),
            "cooldown_minutes": forms.NumberInput(attrs={"min": "0", "max": "10080"}),
        }

    field_order = ["target", *Meta.fields]
    BAND_FIELDS = ("side", "within_pct", "min_usd")
    CLUSTER_FIELDS = ("require_strong", "min_persistence_hours")
    OI_FIELDS = ("oi_direction", "oi_change_pct", "oi_hours")
    VOLATILITY_FIELDS = ("pressure_pct",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interval"].choices = [("", "Finest computed"), *self.fields["interval"].choices[1:]]
        # Only the volatility rule reads it; forms that predate the kind (or omit it) keep the default.
        self.fields["pressure_pct"].required = False
        if self.instance.pk and "target" not in self.initial:
            self.initial["target"] = self.instance.target_key

    def _check_range(self, name: str, low: float, high: float, *, inclusive_low: bool = True) -> None:
        value = self.cleaned_data.get(name)
        if value is None:
            return
        if value < low or (value == low and not inclusive_low) or value > high:
            above = "at least" if inclusive_low else "more than"
            self.add_error(name, f"Must be {above} {low:g} and at most {high:g}.")

    def clean(self):
        cleaned = super().clean()
        self._check_range("within_pct", 0, 50, inclusive_low=False)
        self._check_range("min_usd", 0, 1e12)
        self._check_range("min_persistence_hours", 0, 720)
        self._check_range("oi_change_pct", 0, 1000, inclusive_low=False)
        self._check_range("oi_hours", 0.25, 720)
        self._check_range("cooldown_minutes", 0, 10080)
        if cleaned.get("pressure_pct") in (None, ""):
            cleaned["pressure_pct"] = self.instance.pressure_pct or AlertRule._meta.get_field("pressure_pct").default
        if "target" in cleaned:
            cleaned["market"], cleaned["coin"] = cleaned.pop("target")
            self._check_interval(cleaned)
        return cleaned

    def _check_interval(self, cleaned: dict) -> None:
        """A rule on an interval with no stored grid could never fire: refuse it, naming the intervals there are."""
        interval = cleaned.get("interval")
        if not interval:
            return
        market, coin = cleaned["market"], cleaned["coin"]
        target = Target.of_market(market) if market else Target.of_coin(coin)
        intervals = grid_intervals(target)
        if interval in intervals:
            return
        if intervals:
            self.add_error("interval", f"{target.title} has no {interval} grid; it has {', '.join(intervals)}.")
        else:
            self.add_error(
                "interval", f'{target.title} has no grid yet; choose "Finest computed" to watch the first one computed.'
            )
