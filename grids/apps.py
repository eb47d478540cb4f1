from django.apps import AppConfig


class GridsConfig(AppConfig):
    name = "grids"
    verbose_name = "Grids"

    def ready(self) -> None:
        from grids.tasks import compute_after_refresh
        from markets.signals import market_refreshed

        market_refreshed.connect(compute_after_refresh, dispatch_uid="grids.compute_after_refresh")
