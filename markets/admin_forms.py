"""Admin forms: plugins are chosen from what is installed, markets are checked with the exchange."""

from __future__ import annotations

from django import forms

from liqsite.exchanges import INTERVAL_SECONDS, ExchangeError
from liqsite.exchanges.intervals import INTERVAL_CHOICES
from liqsite.exchanges.registry import installed_plugins, plugin_class
from markets.models import Exchange, Market


class ExchangeForm(forms.ModelForm):
    # A choice among discovered plugins, never a dotted path typed by a person.
    plugin = forms.ChoiceField(choices=())

    class Meta:
        model = Exchange
        fields = ["plugin", "enabled", "settings"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        taken = set(Exchange.objects.exclude(pk=self.instance.pk).values_list("plugin", flat=True))
        self.fields["plugin"].choices = [
            (info.key, f"{info.label} ({info.key}, {info.origin})")
            for info in installed_plugins().values()
            if info.loadable and info.key not in taken
        ]
        if self.instance.pk:
            self.fields["plugin"].disabled = True
            self.fields["plugin"].choices = [(self.instance.plugin, self.instance.label)]

    def clean(self):
        cleaned = super().clean()
        key, settings = cleaned.get("plugin"), cleaned.get("settings")
        if key and isinstance(settings, dict):
            try:
                plugin_class(key)(settings).close()
            except (ExchangeError, LookupError) as error:
                self.add_error("settings", str(error))
        elif settings is not None and not isinstance(settings, dict):
            self.add_error("settings", "settings must be a JSON object, e.g. {}")
        return cleaned


class MarketForm(forms.ModelForm):
    intervals = forms.MultipleChoiceField(choices=INTERVAL_CHOICES, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Market
        fields = ["exchange", "symbol", "intervals", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "exchange" in self.fields:
            self.fields["exchange"].queryset = Exchange.objects.filter(enabled=True)
        if self.instance.pk:
            for name in ("exchange", "symbol"):
                self.fields[name].disabled = True

    def clean_intervals(self):
        return sorted(self.cleaned_data["intervals"], key=INTERVAL_SECONDS.__getitem__)

    def clean(self):
        cleaned = super().clean()
        exchange, symbol = cleaned.get("exchange"), (cleaned.get("symbol") or "").strip()
        if not exchange or not symbol or self.instance.pk:
            return cleaned
        try:
            with exchange.client() as plugin:
                unsupported = [i for i in cleaned.get("intervals", []) if i not in plugin.intervals]
                if unsupported:
                    self.add_error("intervals", f"{exchange.label} does not offer {', '.join(unsupported)}")
                self.instrument = plugin.instrument(symbol)
        except ExchangeError as error:
            if error.permanent:
                self.add_error("symbol", str(error))
            else:
                raise forms.ValidationError(
                    f"Could not check {symbol} with {exchange.label} right now ({error}); try again."
                ) from error
        except LookupError as error:
            self.add_error("exchange", str(error))
        return cleaned

    def save(self, commit=True):
        instrument = getattr(self, "instrument", None)
        if instrument is not None:
            market = self.instance
            market.symbol = instrument.symbol
            market.base, market.quote = instrument.base, instrument.quote
            market.contract_type, market.contract_size = instrument.contract_type, instrument.contract_size
            market.tick_size, market.note = instrument.tick_size, instrument.note[:200]
        return super().save(commit)
