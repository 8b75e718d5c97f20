"""Give the application's database role what it needs and no more: run as the owner, after every `migrate`.

The application then cannot wipe its own history: it may insert and read appeal events and replies but not
update, delete or truncate them, and since it owns no table it can neither disable their triggers nor alter
them (`session_replication_role` is a superuser's setting, which the role is refused). The role itself is
created by whoever administers the server (docker/postgres-init/ for docker-compose), as a plain LOGIN role.
What it may not do as itself but needs (the rollup partitions' DDL) goes through functions that run as the owner
(SECURITY DEFINER), each doing one thing; the role may execute those.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from appeals.models import AppealEvent, Reply

HISTORY_TABLES = (AppealEvent._meta.db_table, Reply._meta.db_table)
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Command(BaseCommand):
    help = "Grant a database role the application's rights: insert and read only on the history tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="an existing role that is not a superuser and owns nothing")

    def handle(self, *args: Any, role: str, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Database roles exist on PostgreSQL only.")
        if not ROLE_NAME.match(role):
            raise CommandError("A role name of lower-case letters, digits and underscores, please.")
        quoted = connection.ops.quote_name(role)
        schema = connection.ops.quote_name(self._one("SELECT current_schema()"))
        database = connection.ops.quote_name(connection.settings_dict["NAME"])
        with transaction.atomic():
            flags = self._row("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
            if flags is None:
                raise CommandError(f"No role {role}: create it first (CREATE ROLE {role} LOGIN PASSWORD '…').")
            if any(flags):
                raise CommandError(f"Role {role} is a superuser or bypasses row security: it could rewrite history.")
            owned = self._one(
                "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = %s", [role]
            )
            if owned:
                raise CommandError(f"Role {role} owns {owned} relation(s): an owner may alter or disable triggers.")
            history = ", ".join(connection.ops.quote_name(table) for table in HISTORY_TABLES)
            with connection.cursor() as cursor:
                for statement in (
                    f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
                    f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
                    f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {quoted}",
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {quoted}",
                    f"REVOKE UPDATE, DELETE ON {history} FROM {quoted}",
                    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}",
                ):
                    cursor.execute(statement)
                # The functions that run with the owner's rights, each made for the application to call, as the
                # rollup partitions' DDL (ratings.partitions); their migrations revoke them from PUBLIC.
                cursor.execute(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p "
                    "WHERE p.pronamespace = current_schema()::regnamespace AND p.prosecdef ORDER BY 1"
                )
                for (function,) in cursor.fetchall():
                    cursor.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {quoted}")
        self.stdout.write(f"Role {role}: read and write, history tables insert and read only.")

    @staticmethod
    def _row(sql: str, params: list | None = None) -> tuple | None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def _one(self, sql: str, params: list | None = None) -> Any:
        row = self._row(sql, params)
        return row[0] if row else None
