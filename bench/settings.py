"""Settings for the benchmark only: the site's own, plus bench/urls.py. Never used by the site.

Selected with DJANGO_SETTINGS_MODULE=bench.settings by bench/run_bench.py.
"""

from mali_history.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
