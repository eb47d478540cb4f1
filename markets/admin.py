"""Admin: installed exchange plugins, enabling them, adding and refreshing markets."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from liqsite.exchanges.registry import installed_plugins
from markets.admin_forms import ExchangeForm, MarketForm
from markets.models import Exchange, Market
from markets.tasks import refresh_market


@admin.register(Exchange)
class ExchangeAdmin(admin.ModelAdmin):
    form = ExchangeForm
    list_display = ["label", "plugin", "enabled", "market_count", "last_error"]
    list_filter = ["enabled"]
    readonly_fields = ["last_error", "last_error_at", "banned_until", "created_at"]
    change_list_template = "admin/markets/exchange/change_list.html"

    @admin.display(description="markets")
    def market_count(self, exchange: Exchange) -> int:
        return exchange.markets.count()

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("plugins/", view(self.plugins_view), name="markets_exchange_plugins"),
            path("plugins/<str:key>/enable/", view(require_POST(self.enable_view)), name="markets_exchange_enable"),
            *super().get_urls(),
        ]

    def plugins_view(self, request):
        """Every installed plugin, bundled or from the entry-point group, and whether it is enabled."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        exchanges = {exchange.plugin: exchange for exchange in Exchange.objects.all()}
        rows = [(info, exchanges.get(info.key)) for info in installed_plugins().values()]
        missing = [exchange for key, exchange in exchanges.items() if key not in installed_plugins()]
        context = {
            **self.admin_site.each_context(request),
            "title": "Installed exchange plugins",
            "rows": rows,
            "missing": missing,
            "opts": self.model._meta,
            "can_change": self.has_add_permission(request) and self.has_change_permission(request),
        }
        return TemplateResponse(request, "admin/markets/exchange/plugins.html", context)

    def enable_view(self, request, key: str):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        info = installed_plugins().get(key)
        if info is None or not info.loadable:
            messages.error(request, f"Plugin {key!r} is not installed or cannot be loaded.")
        else:
            exchange, created = Exchange.objects.get_or_create(plugin=key, defaults={"enabled": True})
            if not created and not exchange.enabled:
                exchange.enabled = True
                exchange.save(update_fields=["enabled"])
            messages.success(request, f"{info.label} is enabled. Add its markets next.")
        return HttpResponseRedirect(reverse("admin:markets_exchange_plugins"))


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    form = MarketForm
    list_display = ["symbol", "exchange", "contract_type", "intervals", "active", "last_ingest_at", "last_error"]
    list_filter = ["exchange", "active", "contract_type"]
    search_fields = ["symbol"]
    readonly_fields = [
        "base",
        "quote",
        "contract_type",
        "contract_size",
        "tick_size",
        "note",
        "last_ingest_at",
        "last_error",
        "last_error_at",
        "created_at",
    ]
    actions = ["refresh_now", "activate", "deactivate"]

    @admin.action(description="Refresh now (queued for the worker)")
    def refresh_now(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for market_id in ids:
            refresh_market.delay_on_commit(market_id)
        self.message_user(request, f"Queued a refresh of {len(ids)} market(s).")

    @admin.action(description="Activate (refresh periodically)")
    def activate(self, request, queryset):
        count = queryset.update(active=True, last_error="", last_error_at=None)
        self.message_user(request, f"Activated {count} market(s).")

    @admin.action(description="Deactivate")
    def deactivate(self, request, queryset):
        count = queryset.update(active=False)
        self.message_user(request, f"Deactivated {count} market(s).", messages.WARNING)
