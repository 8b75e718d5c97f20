-- The role web, worker and beat connect as (DATABASE_URL in .env): it logs in, owns nothing and is no superuser.
-- PostgreSQL runs this once, when it initialises an empty data volume; on an existing volume run it by hand:
--   docker compose exec postgres psql -U otklik -d otklik -f /docker-entrypoint-initdb.d/10-app-role.sql
-- Its rights are granted by `manage.py grant_app_role otklik_app`, which the migrate service runs after migrating.
-- Change the password here and in .env's DATABASE_URL together.
CREATE ROLE otklik_app LOGIN PASSWORD 'otklik_app' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
