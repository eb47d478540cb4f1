"""The address of the client behind a request, for rate limits.

Without a proxy setting it is ``REMOTE_ADDR``. Behind a reverse proxy
``REMOTE_ADDR`` is the proxy, so every visitor would share one address (and one
throttle). ``LIQSITE_PROXY_HEADER`` names the header the proxy writes the
client's address into, and ``LIQSITE_TRUSTED_PROXIES`` lists the proxies. The
header is read only when the request comes from a trusted proxy, and it is read
from the right: a proxy appends the address it saw to ``X-Forwarded-For``, so
the right-most entry that is not one of our proxies is the client; anything to
its left was written by the client and proves nothing.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

UNKNOWN = "unknown"


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address) -> bool:
    return any(address in network for network in settings.LIQSITE_TRUSTED_PROXIES)


def client_address(request) -> str:
    """The client's IP address as text, or ``"unknown"`` when the request carries none usable."""
    if request is None:
        return UNKNOWN
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return UNKNOWN
    header = settings.LIQSITE_PROXY_HEADER
    if not header or not _trusted(remote):
        return str(remote)
    for value in reversed(request.META.get(header, "").split(",")):
        hop = _address(value)
        if hop is None:
            # A malformed entry means the chain from here leftwards cannot be
            # trusted; the last proxy that handed it over is what we know.
            break
        if not _trusted(hop):
            return str(hop)
        remote = hop
    return str(remote)


def rate_limit_key(address: str) -> str:
    """What a per-address limit counts on: the address, or for IPv6 its /64.

    One IPv6 subscriber usually holds a whole /64, so counting single IPv6
    addresses would give them billions of fresh counters.
    """
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(parsed.ipv4_mapped)
    return address
