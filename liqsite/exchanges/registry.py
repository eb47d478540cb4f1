"""Which exchange plugins are installed.

Two sources, both decided by code and packaging, never by text typed into a
form: the bundled first-party plugins listed below, and third-party packages
that declare an entry point in the ``liqsite.exchanges`` group, e.g. in their
``pyproject.toml``::

    [project.entry-points."liqsite.exchanges"]
    kraken = "liqsite_kraken:KrakenExchange"

The entry-point name is the plugin's key, stored on ``Exchange.plugin``. A
plugin that fails to import is listed with its error instead of breaking
start-up, so one broken package never takes the site down.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

from liqsite.exchanges.base import PLUGIN_API_VERSION, ExchangePlugin
from liqsite.exchanges.oi_stamps import OI_STAMPS

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "liqsite.exchanges"

# First-party plugins shipped in this repository (key -> "module:Class").
BUNDLED_PLUGINS: dict[str, str] = {
    "sample": "plugins.sample.plugin:SampleExchange",
    "binance": "plugins.binance.plugin:BinanceExchange",
    "bybit": "plugins.bybit.plugin:BybitExchange",
    "okx": "plugins.okx.plugin:OkxExchange",
    # Stand-ins for Binance, Bybit and OKX serving the recorded three-exchange sample offline.
    "sample_binance": "plugins.sample.recorded:SampleBinance",
    "sample_bybit": "plugins.sample.recorded:SampleBybit",
    "sample_okx": "plugins.sample.recorded:SampleOkx",
}


@dataclass(frozen=True)
class PluginInfo:
    """One installed plugin, loadable or not."""

    key: str
    origin: str  # "bundled" or the distribution that declared the entry point
    target: str  # "module:Class", for the admin listing
    plugin_class: type[ExchangePlugin] | None = None
    error: str = ""

    @property
    def label(self) -> str:
        return self.plugin_class.label if self.plugin_class else self.key

    @property
    def description(self) -> str:
        return self.plugin_class.description if self.plugin_class else ""

    @property
    def loadable(self) -> bool:
        return self.plugin_class is not None


def _load(key: str, origin: str, target: str, loader) -> PluginInfo:
    try:
        plugin_class = loader()
    except Exception as error:  # a broken third-party package must not break start-up
        log.exception("exchange plugin %s (%s) failed to load", key, target)
        return PluginInfo(key, origin, target, error=f"failed to load: {error!r}")
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, ExchangePlugin)):
        return PluginInfo(key, origin, target, error=f"{target} is not an ExchangePlugin subclass")
    if plugin_class.open_interest_stamp not in OI_STAMPS:
        return PluginInfo(
            key,
            origin,
            target,
            error=f"open_interest_stamp is {plugin_class.open_interest_stamp!r}; it must be one of {', '.join(OI_STAMPS)}",
        )
    if plugin_class.api_version != PLUGIN_API_VERSION:
        return PluginInfo(
            key,
            origin,
            target,
            error=f"written for plugin API {plugin_class.api_version}, this liqsite speaks {PLUGIN_API_VERSION}",
        )
    return PluginInfo(key, origin, target, plugin_class=plugin_class)


def _import_target(target: str):
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@cache
def installed_plugins() -> dict[str, PluginInfo]:
    """Every installed plugin by key, bundled ones first. Cached per process."""
    found: dict[str, PluginInfo] = {}
    for key, target in BUNDLED_PLUGINS.items():
        found[key] = _load(key, "bundled", target, lambda target=target: _import_target(target))
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        origin = entry_point.dist.name if entry_point.dist else "unknown distribution"
        if entry_point.name in found:
            log.warning(
                "ignoring %s's exchange plugin %r: the key is taken by %s",
                origin,
                entry_point.name,
                found[entry_point.name].origin,
            )
            continue
        found[entry_point.name] = _load(entry_point.name, origin, entry_point.value, entry_point.load)
    return found


def plugin_class(key: str) -> type[ExchangePlugin]:
    """The class of an installed, loadable plugin; ``LookupError`` says why not."""
    info = installed_plugins().get(key)
    if info is None:
        raise LookupError(f"exchange plugin {key!r} is not installed")
    if info.plugin_class is None:
        raise LookupError(f"exchange plugin {key!r} cannot be used: {info.error}")
    return info.plugin_class


def reload_plugins() -> None:
    """Forget the cached discovery (after installing a package, and in tests)."""
    installed_plugins.cache_clear()
