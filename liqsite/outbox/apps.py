from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "liqsite.outbox"
    label = "outbox"
    verbose_name = "Email outbox"
