"""Schemathesis over the whole OpenAPI document, on SQLite and PostgreSQL, with a valid key.

    .venv/bin/python bench/fuzz_api.py [--examples 25] [--backend sqlite|postgresql|both]
                                       [--postgres postgresql+psycopg://postgres@127.0.0.1/postgres]
                                       [--json]

Every operation of ``/api/v1/openapi.json`` gets ``--examples`` generated requests (in
process over ASGI, seeded store, a key with every scope bound to an agency). Counts requests
and server errors (5xx) per backend, and names the operations that answered 5xx with one
example each (docs/security.md, "Measured"). PostgreSQL: a fresh database on the given server,
dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(database_url: str, folder: Path, examples: int) -> dict[str, Any]:
    import schemathesis
    from tests.api.seed import OWNER, seed

    from takedown.api.app import create_app
    from takedown.api.auth import SCOPES, create_key
    from takedown.app import App
    from takedown.config import Settings

    app = App(Settings(data=folder / "data", database_url=database_url))
    seed(app, folder / "seed", hostile=True)
    api = create_app(app)
    key = create_key(app, "fuzz", list(SCOPES), agency=OWNER).secret
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api)
    statuses: Counter[int] = Counter()
    errors: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        _fuzz(operation, key, examples, statuses, errors)
    app.db.engine.dispose()
    return {
        "operations": len(operations),
        "requests": sum(statuses.values()),
        "server_errors": sum(n for s, n in statuses.items() if s >= 500),
        "statuses": dict(sorted(statuses.items())),
        "failing_operations": errors,
    }


def _fuzz(
    operation: Any, key: str, examples: int, statuses: Counter[int], errors: dict[str, str]
) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: schemathesis.Case) -> None:
        for header in list(case.headers or {}):  # generated credentials would only earn 401s
            if header.lower() in ("authorization", "x-api-key"):
                del case.headers[header]
        try:
            response = case.call(headers={"X-API-Key": key})
            status = response.status_code
        except Exception as exc:  # an unhandled server exception is a 500
            status = 500
            errors.setdefault(label, f"{type(exc).__name__}: {str(exc)[:200]}")
        statuses[status] += 1
        if status >= 500:
            errors.setdefault(label, f"{status} for {case.path_parameters} {case.query}")

    check()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend in ("sqlite", "both"):
            folder = Path(tmp) / "sqlite"
            results["sqlite"] = run(
                f"sqlite:///{folder / 'data' / 'takedown.sqlite3'}", folder, args.examples
            )
        if args.backend in ("postgresql", "both"):
            from sqlalchemy import create_engine, make_url, text

            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            name = f"takedown_fuzz_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.postgres).set(database=name).render_as_string(False)
                results["postgresql"] = run(url, Path(tmp) / "pg", args.examples)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for backend, result in results.items():
            print(
                f"{backend}: {result['operations']} operations, {result['requests']} requests, "
                f"{result['server_errors']} server errors (5xx)"
            )
            for label, example in result["failing_operations"].items():
                print(f"  {label}: {example}")


if __name__ == "__main__":
    main()
