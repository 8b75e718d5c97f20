"""Production settings (DEBUG off, secrets from the environment) with the benchmark's URLconf.

Only bench.appeal_create uses it: the app's URLs plus the bare reference view of bench.bare_urls, so that the
reference never ships in config.urls.
"""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.bare_urls"
