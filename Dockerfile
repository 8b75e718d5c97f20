# One image for the API (gunicorn), the Celery worker and Celery beat: docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    OTKLIK_VAR_DIR=/app/var

RUN useradd --system --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin otklik
WORKDIR /app

# Requirements first, so a code change does not reinstall them. Every wheel is prebuilt (psycopg-binary too):
# the image needs no compiler.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected into the image and served by WhiteNoise. Production settings refuse to start without
# SECRET_KEY and ALLOWED_HOSTS, so this step gets throwaway ones; the real ones come from the environment at run time.
RUN SECRET_KEY=collectstatic-only-not-a-secret ALLOWED_HOSTS=localhost \
        python manage.py collectstatic --no-input --verbosity 0 \
    && mkdir -p /app/var/media \
    && chown -R otklik:otklik /app/var

# The code stays owned by root and read-only to the app; only var/ (beat's schedule) is writable.
USER otklik
EXPOSE 8000
# gunicorn's control socket would go to $HOME (/app, not writable): it is not used, so it is off.
CMD ["gunicorn", "config.wsgi", "--config", "config/gunicorn.py", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--no-control-socket"]
