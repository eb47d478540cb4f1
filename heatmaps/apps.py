from django.apps import AppConfig


class HeatmapsConfig(AppConfig):
    name = "heatmaps"
    verbose_name = "Markets and heatmaps"
