from django.apps import AppConfig


class AccuracyConfig(AppConfig):
    name = "accuracy"
    verbose_name = "Accuracy"
