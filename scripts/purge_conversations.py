"""Delete the conversations whose last message is older than the retention period (make purge-conversations).

Run daily (see docs/operations.md, "Where conversations are kept"). It works on the database
endpoints.yml and TRACKER_STORE_URL name, as `rasa run` does, and prints only
how many conversations it deleted: never a sender id (on SMS, a parent's phone
number) or what was said.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import List


def main(argv: List[str] | None = None) -> int:
    # Rasa's and its libraries' deprecation warnings are no news to whoever reads a cron job's mail. (Not
    # filters: a library imported on the way adds its own in front of them.)
    warnings.showwarning = lambda *args, **kwargs: None
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")  # printed to stderr, not through `warnings`
    from conversations.retention import DAYS_VARIABLE, BadRetention, parse_days, purge, retention_days
    from conversations.store import (
        DatabaseError,
        TrackerStoreConfigError,
        configured_url,
        describe,
        on_database,
        sqlite_file,
    )

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--days",
        help=f"delete conversations idle for more than this many days (default: {DAYS_VARIABLE}, or 30)",
    )
    parser.add_argument("--endpoints", default="endpoints.yml", help="the endpoints file `rasa run` uses")
    args = parser.parse_args(argv)
    try:
        days = parse_days(args.days, "DAYS (--days)") if args.days is not None else retention_days()
        url = configured_url(args.endpoints)
    except (BadRetention, TrackerStoreConfigError) as error:
        print(f"purge-conversations: {error}", file=sys.stderr)
        return 2
    database_file = sqlite_file(url)
    if database_file and not database_file.exists():
        print(f"No conversations are stored yet: there is no {database_file}.")
        return 0
    try:
        deleted = on_database(url, lambda engine: purge(engine, days))
    except DatabaseError as error:
        print(f"purge-conversations: could not purge {describe(url)}: {error}", file=sys.stderr)
        return 1
    noun = "conversation" if deleted == 1 else "conversations"
    period = "1 day" if days == 1 else f"{days} days"
    print(f"Deleted {deleted} {noun} idle for more than {period} from {describe(url)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
