"""Admin: which address each account confirmed (an operator may confirm one they checked themselves)."""

from django.contrib import admin

from liqsite.accounts.models import ConfirmedEmail


@admin.register(ConfirmedEmail)
class ConfirmedEmailAdmin(admin.ModelAdmin):
    list_display = ("user", "email", "confirmed_at")
    search_fields = ("user__username", "email")
    raw_id_fields = ("user",)
