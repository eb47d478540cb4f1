"""Accounts made before email confirmation existed count as confirmed.

They had no way to confirm, and their alerts were already going to these
addresses; stopping them would silently end alerts people rely on. The one
exception is an address held by several accounts, which is how alerts could be
aimed at someone else's inbox: there only the oldest account (the first to give
the address) keeps it confirmed; the others are asked to confirm, and a
confirmation link for an address already confirmed elsewhere is never sent.
"""

from django.conf import settings
from django.db import migrations


def confirm_existing(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    ConfirmedEmail = apps.get_model("accounts", "ConfirmedEmail")
    seen = set()
    rows = []
    for pk, email, joined in User.objects.exclude(email="").order_by("date_joined", "pk").values_list("pk", "email", "date_joined").iterator():
        address = email.strip().casefold()
        if address in seen:
            continue
        seen.add(address)
        rows.append(ConfirmedEmail(user_id=pk, email=email, confirmed_at=joined))
        if len(rows) >= 1000:
            ConfirmedEmail.objects.bulk_create(rows)
            rows = []
    ConfirmedEmail.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(confirm_existing, migrations.RunPython.noop)]
