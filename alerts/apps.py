from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from alerts import checks  # noqa: F401 - registers the deploy check
        from grids.signals import grids_stored

        grids_stored.connect(_evaluate_after_grids, dispatch_uid="alerts.evaluate_after_grids")


def _evaluate_after_grids(sender, *, target, **kwargs) -> None:
    """A target's grids were computed (stored or unchanged; sent after commit): check the rules that watch them.

    Evaluation is idempotent (once per rule and episode), so checking again on
    unchanged grids fires only what is due, such as a rule made since.
    """
    from alerts.tasks import evaluate_rules

    evaluate_rules.delay(target.key)
