"""Template filters for figures (see liqsite/formatting.py).

``usd``, ``price``, ``pct``, ``signed_pct``, ``hours``, ``utc_ms``, ``when``.
"""

from django import template

from liqsite import formatting

register = template.Library()

register.filter("usd", formatting.usd)
register.filter("price", formatting.price)
register.filter("pct", formatting.pct)
register.filter("signed_pct", formatting.pct)
register.filter("hours", formatting.hours)
register.filter("utc_ms", formatting.utc_ms)
register.filter("when", formatting.when)
