"""The site's own settings plus a query log, for the benchmark's database-query count only.

The latency, CPU and memory numbers are measured with chatsite.settings unchanged; only the
query-count phase runs daphne with this module (DJANGO_SETTINGS_MODULE=bench.settings).
"""

from chatsite.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.querylog.QueryLogConfig"]  # noqa: F405
