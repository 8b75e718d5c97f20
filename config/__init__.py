# Celery is loaded with Django so that `@shared_task` and `delay_on_commit` bind to our app.
from config.celery_app import app as celery_app

__all__ = ("celery_app",)
