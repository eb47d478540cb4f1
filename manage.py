#!/usr/bin/env python
"""Django's command-line utility for liqsite."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liqsite.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A bad environment variable: say which one, without a traceback.
        sys.exit(f"liqsite: configuration error: {error}")


if __name__ == "__main__":
    main()
