#!/usr/bin/env python
"""Django's command-line utility for OpsDesk."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
    from opsdesk.preflight import run_with_clear_errors

    run_with_clear_errors(sys.argv)


if __name__ == "__main__":
    main()
