"""The production topology (bot/ops/topology.py) on this machine's PostgreSQL and Redis: one action
server, two Rasa servers (SQL tracker store, Redis lock store), the webhook under gunicorn with two
worker processes, and a stand-in Graph API process. Started once for the module (≈ 1.5 min).

Needs MOBILIS_RASA_BIN/MOBILIS_MODEL (set by ./mobilis test) and PostgreSQL + Redis on 127.0.0.1;
skipped without them, unless MOBILIS_REQUIRE_E2E=1 makes that a failure.
"""

from __future__ import annotations

import uuid

import pytest
from e2e_helpers import free_port, rasa_and_model, require
from production_helpers import TopologyClient

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/"
REDIS_URL = "redis://127.0.0.1:6379/0"


def _reachable() -> tuple[bool, str]:
    try:
        import redis
        from sqlalchemy import create_engine, pool, text

        engine = create_engine(PG + "postgres", poolclass=pool.NullPool, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return True, ""
    except Exception as exc:  # either server missing means "cannot run here"
        return False, f"PostgreSQL or Redis unreachable on 127.0.0.1: {type(exc).__name__}"


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    from bot.db.admin import drop_database
    from bot.ops.launcher import Ports
    from bot.ops.topology import Topology

    rasa_bin, model = rasa_and_model()
    ok, reason = _reachable()
    require(ok, reason)
    run = uuid.uuid4().hex[:8]
    app_db, tracker_db = f"{PG}mobilis_topo_{run}", f"{PG}mobilis_topo_rasa_{run}"
    stack = Topology(
        rasa_bin=rasa_bin,
        model=model,
        log_dir=tmp_path_factory.mktemp("topology-logs"),
        ports=Ports(webhook=free_port(), rasa=free_port(), actions=free_port(), backoffice=free_port()),
        database_url=app_db,
        tracker_database_url=tracker_db,
        redis_url=REDIS_URL,
        rasa_servers=2,
        rasa_ports=[free_port(), free_port()],
        webhook_workers=2,
        standin_port=free_port(),
        # Short lease and sweep so a killed worker's events come back within seconds;
        # no per-user rate limit: the load test sends faster than a person types.
        webhook_env={
            "WEBHOOK_CLAIM_LEASE_SECONDS": "6",
            "WEBHOOK_SWEEP_SECONDS": "1",
            "WEBHOOK_USER_RATE": "0",
            "LOG_LEVEL": "INFO",
        },
    )
    try:
        stack.prepare_databases()
        stack.start()
        yield TopologyClient(stack, run)
    finally:
        stack.stop()
        drop_database(app_db)
        drop_database(tracker_db)
