"""Pages of the heatmaps app. Views stay thin: parse, call a selector, render."""

from django.shortcuts import render

from heatmaps.selectors import market_coverage_list


def market_list(request):
    """All markets with the coverage of their stored data and their last error."""
    return render(request, "heatmaps/market_list.html", {"coverage": market_coverage_list()})
