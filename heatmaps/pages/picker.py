"""The market picker's table: the query parameters read, the rows fetched, the column headers' links."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from heatmaps.viewing.market_overview import DEFAULT_SORT, SORT_KEYS, market_rows

# Columns whose natural first order is ascending (nearest band first, A to Z); the rest start largest first.
ASCENDING_FIRST = {"market", "exchange", "above", "below"}
SEARCH_MAX_LENGTH = 64


@dataclass(frozen=True)
class Header:
    key: str
    label: str
    url: str  # sorts on this column (the other direction when it is the current one)
    active: str  # "asc", "desc" or ""
    numeric: bool = True


COLUMNS = (
    ("market", "Market", False),
    ("price", "Price", True),
    ("change", "24 h", True),
    ("oi", "Open interest", True),
    ("oi_change", "OI trend", True),
    ("below", "Nearest band below", True),
    ("above", "Nearest band above", True),
)


def picker_table(params) -> dict:
    """Template context for the picker: ``q`` searches, ``sort`` and ``dir`` order; bad values fall back to the default."""
    search = params.get("q", "")[:SEARCH_MAX_LENGTH].replace("\x00", "")
    sort = params.get("sort", DEFAULT_SORT)
    if sort not in SORT_KEYS:
        sort = DEFAULT_SORT
    direction = params.get("dir")
    if direction not in ("asc", "desc"):
        direction = "asc" if sort in ASCENDING_FIRST else "desc"
    headers = []
    for key, label, numeric in COLUMNS:
        if key == sort:
            next_direction = "desc" if direction == "asc" else "asc"
        else:
            next_direction = "asc" if key in ASCENDING_FIRST else "desc"
        query = {"sort": key, "dir": next_direction} | ({"q": search} if search else {})
        headers.append(Header(key, label, "?" + urlencode(query), direction if key == sort else "", numeric))
    return {
        "rows": market_rows(search=search, sort=sort, descending=direction == "desc"),
        "headers": headers,
        "search": search,
        "sort": sort,
        "direction": direction,
    }
