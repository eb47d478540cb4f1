"""Public, read-only links to one heatmap view.

The token is the only key: unguessable (192 random bits), carrying nothing
about who made the link. A *live* link shows the view's current data; a
*frozen* one shows the data as it was when the link was made, copied into the
row (the reduced window and the analysis), so it outlives later computations.
Revoking keeps the row (the owner sees what was revoked) and makes the link a
404.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from grids.targets import TargetFields

TOKEN_BYTES = 24  # 32 URL-safe characters


def new_share_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class ShareLinkQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ShareLink(TargetFields):
    token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links")
    query = models.JSONField(default=dict, help_text="The view's canonical query parameters (range, interval, method, ...).")
    title = models.CharField(max_length=200)
    description = models.CharField(max_length=300, blank=True)
    frozen = models.BooleanField(default=False, help_text="Show the data as it was when the link was made.")
    frozen_window = models.BinaryField(null=True, blank=True, editable=False, help_text="The reduced window, for frozen links.")
    frozen_meta = models.JSONField(null=True, blank=True, editable=False, help_text="Analysis and labels, for frozen links.")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            TargetFields.market_xor_coin("sharelink_market_xor_coin"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("heatmaps:share_view", args=[self.token])

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
