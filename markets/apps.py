from django.apps import AppConfig


class MarketsConfig(AppConfig):
    name = "markets"
    verbose_name = "Markets"

    def ready(self):
        from django.conf import settings

        from liqsite.exchanges import http
        from liqsite.exchanges.shared_budget import RedisBudget

        # Exchanges limit requests per IP: with Redis every worker process spends one budget per exchange
        # endpoint. Without it each process keeps its own (the embedded default runs one worker).
        cache = settings.CACHES.get("default", {})
        if cache.get("BACKEND") == "django.core.cache.backends.redis.RedisCache":
            http.shared_budget = RedisBudget(cache["LOCATION"], prefix=f"{cache.get('KEY_PREFIX') or 'liqsite'}:exchange-budget:")
