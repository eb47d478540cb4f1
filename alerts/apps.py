from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from alerts import checks  # noqa: F401 - registers the deploy check
        from heatmaps.signals import grids_stored

        grids_stored.connect(_evaluate_after_grids, dispatch_uid="alerts.evaluate_after_grids")


def _evaluate_after_grids(sender, *, market_id=None, coin="", **kwargs) -> None:
    """New grids were stored (the signal is sent after commit): check the rules that watch them."""
    from alerts.tasks import evaluate_coin_rules, evaluate_market_rules

    if market_id is not None:
        evaluate_market_rules.delay(market_id)
    elif coin:
        evaluate_coin_rules.delay(coin)
