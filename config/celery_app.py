import os

from celery import Celery

# The same default as config.wsgi and config.asgi. `config/__init__.py` imports this module before wsgi.py runs,
# so a local default here would turn `gunicorn config.wsgi` without the variable into a DEBUG server.
# manage.py, the Makefile and `make run`'s devserver name local settings explicitly; bin/test the test ones.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("otklik")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
