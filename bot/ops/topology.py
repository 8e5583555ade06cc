"""The production topology as local processes, against this machine's PostgreSQL and Redis.

    ./mobilis prod-local [--rasa-servers 2] [--webhook-workers 2] [--standin]

Same shape as docker-compose.yml: one action server, N Rasa servers sharing a PostgreSQL tracker
store and a Redis lock store, the webhook under gunicorn with M worker processes sharing the
application database (PostgreSQL) and Redis (sender locks, rate limits), the retention loop and
the staff's back office. The application and
tracker databases are created if missing and migrated.

Production mode: the Facebook secrets come from the environment (FB_APP_SECRET, FB_VERIFY_TOKEN,
FB_PAGE_ACCESS_TOKEN). With --standin, replies go to a local stand-in Graph API process instead of
Facebook and local secrets are used, so the topology can be tried and tested offline.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from bot.config import get_settings
from bot.db.admin import ensure_database
from bot.ops.launcher import Ports, Stack, action_server_argv, rasa_argv, rasa_log_env, run_until_stopped

LOCAL_SECRETS = {
    "FB_APP_SECRET": "local-app-secret",
    "FB_VERIFY_TOKEN": "local-verify-token",
    "FB_PAGE_ACCESS_TOKEN": "local-page-token",
}


@dataclass
class Topology(Stack):
    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/mobilis"
    tracker_database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/mobilis_rasa"
    redis_url: str = "redis://127.0.0.1:6379/0"
    rasa_servers: int = 2
    rasa_ports: list[int] | None = None  # default: ports.rasa, ports.rasa + 1, ...
    webhook_workers: int = 2
    standin_port: int | None = None  # set: start the stand-in Graph API there and reply to it
    load_demo: bool = False
    webhook_env: dict[str, str] = field(default_factory=dict)

    def rasa_urls(self) -> list[str]:
        ports = self.rasa_ports or [self.ports.rasa + i for i in range(self.rasa_servers)]
        return [f"http://127.0.0.1:{port}" for port in ports]

    def _environment(self) -> dict[str, str]:
        env = super()._environment()
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            RASA_URL=",".join(self.rasa_urls()),
            TRACKER_DATABASE_URL=self.tracker_database_url,
        )  # the webhook erases trackers there
        env.pop("MOBILIS_DEV_MODE", None)  # production mode, always
        if self.standin_port is not None:
            env.update(
                GRAPH_API_URL=f"http://127.0.0.1:{self.standin_port}",
                **{name: env.get(name) or value for name, value in LOCAL_SECRETS.items()},
            )
        return env

    def prepare_databases(self) -> None:
        for url in (self.database_url, self.tracker_database_url):
            if ensure_database(url):
                print(f"Base créée : {make_url(url).database}", flush=True)
        env = self._environment()
        steps = [["-m", "bot.db.migrate"], ["-m", "bot.services.purchasing.catalogue"]] + (
            [["-m", "bot.tools.demo"]] if self.load_demo else []
        )
        for step in steps:
            subprocess.run([sys.executable, *step], cwd=self._root(), env=env, check=True, stdout=subprocess.DEVNULL)

    def start(self, timeout: float = 300.0) -> None:
        python = sys.executable
        deadline = time.monotonic() + timeout
        if self.standin_port is not None:
            env = self._environment()
            self._spawn(
                "standin",
                [
                    python,
                    "-m",
                    "bot.devtools.standin_server",
                    "--port",
                    str(self.standin_port),
                    "--token",
                    env["FB_PAGE_ACCESS_TOKEN"],
                    "--app-secret",
                    env["FB_APP_SECRET"],
                    "--echo-url",
                    f"http://127.0.0.1:{self.ports.webhook}/webhook",
                ],
            )
        self._spawn("actions", action_server_argv(python, self.ports.actions))
        tracker = make_url(self.tracker_database_url)
        redis = urlsplit(self.redis_url)
        rasa_env = {
            "TRACKER_DB_HOST": tracker.host or "127.0.0.1",
            "TRACKER_DB_PORT": str(tracker.port or 5432),
            "TRACKER_DB_NAME": tracker.database or "mobilis_rasa",
            "TRACKER_DB_USER": tracker.username or "postgres",
            "TRACKER_DB_PASSWORD": tracker.password or "",
            "LOCK_STORE_REDIS_HOST": redis.hostname or "127.0.0.1",
            "LOCK_STORE_REDIS_PORT": str(redis.port or 6379),
            "LOCK_STORE_REDIS_DB": redis.path.strip("/") or "0",
            **rasa_log_env(),
        }
        servers = [(f"rasa-{index + 1}", self.model, url) for index, url in enumerate(self.rasa_urls())]
        if self.model_en:  # the English model, on the same tracker and lock stores
            servers.append(("rasa-en", self.model_en, f"http://127.0.0.1:{self.ports.rasa_en}"))
        for name, model, url in servers:
            self._spawn(
                name,
                rasa_argv(
                    self.rasa_bin,
                    self._environment(),
                    model,
                    url.rsplit(":", 1)[1],
                    endpoints="nlu/endpoints.production.yml",
                ),
                rasa_env,
            )
        # Retention, as docker-compose schedules it: a pass now, then one a day.
        self._spawn("retention", [python, "-m", "bot.ops.retention", "--every", "86400"])
        # The staff's back office; without BACKOFFICE_SECRET_KEY in the environment, a key per start
        # (staff log in again after a restart).
        if self.ports.backoffice is not None:
            key = {"BACKOFFICE_SECRET_KEY": os.environ.get("BACKOFFICE_SECRET_KEY") or secrets.token_hex(32)}
            backoffice = ["--host", "127.0.0.1", "--port", str(self.ports.backoffice)]
            self._spawn("backoffice", [python, "-m", "bot.backoffice", *backoffice], key)
        gunicorn = os.path.join(os.path.dirname(python), "gunicorn")
        self._spawn(
            "webhook",
            [gunicorn, "-c", "deploy/gunicorn.conf.py", "webhook:app"],
            {"WEB_CONCURRENCY": str(self.webhook_workers), **self.webhook_env},
        )
        self._wait(f"http://127.0.0.1:{self.ports.actions}/health", deadline)
        if self.standin_port is not None:
            self._wait(f"http://127.0.0.1:{self.standin_port}/_standin/sends", deadline)
        for _name, _model, url in servers:
            self._wait(
                f"{url}/status", deadline, ready=lambda r: bool(r.json().get("model_id")), params=self.rasa_api_params
            )
        self._wait(f"http://127.0.0.1:{self.ports.webhook}/readyz", deadline)
        if self.ports.backoffice is not None:
            self._wait(f"http://127.0.0.1:{self.ports.backoffice}/healthz", deadline)

    def webhook_worker_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the master), for fault tests."""
        master = next(p for p in self.processes if p.name == "webhook")
        workers = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            if int(fields[1]) == master.pid:  # field 4 of /proc/PID/stat: parent pid
                workers.append(int(stat.parent.name))
        return sorted(workers)

    @staticmethod
    def _root() -> str:
        from bot.config import PROJECT_ROOT

        return str(PROJECT_ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description="Topologie de production en processus locaux")
    parser.add_argument("--rasa-bin", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--model-en", help="le modèle anglais (un serveur Rasa de plus) ; absent : français seul")
    parser.add_argument("--rasa-servers", type=int, default=2)
    parser.add_argument("--webhook-workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or Topology.database_url)
    parser.add_argument("--tracker-database-url", default=Topology.tracker_database_url)
    parser.add_argument("--redis-url", default=get_settings().redis_url or Topology.redis_url)
    parser.add_argument("--standin", action="store_true", help="répondre à une Graph API locale (sans Facebook)")
    parser.add_argument("--demo", action="store_true", help="charger les lignes de démonstration")
    args = parser.parse_args()
    topology = Topology(
        rasa_bin=args.rasa_bin,
        model=args.model,
        model_en=args.model_en if args.model_en and Path(args.model_en).exists() else None,
        ports=Ports(webhook=args.port),
        database_url=args.database_url,
        tracker_database_url=args.tracker_database_url,
        redis_url=args.redis_url,
        rasa_servers=args.rasa_servers,
        webhook_workers=args.webhook_workers,
        standin_port=8095 if args.standin else None,
        load_demo=args.demo,
    )
    try:
        topology.prepare_databases()
        print(
            f"Démarrage : 1 serveur d'actions, {args.rasa_servers} serveurs Rasa, webhook gunicorn "
            f"({args.webhook_workers} processus)… (1 à 2 min)",
            flush=True,
        )
        topology.start()
    except Exception as error:  # any start-up failure: say it in French and stop
        print(f"Échec du démarrage : {error}", file=sys.stderr)
        topology.stop()
        sys.exit(1)
    print(
        f"Prêt : webhook http://127.0.0.1:{args.port}/webhook (santé : /readyz, métriques : /metrics), "
        f"back office http://127.0.0.1:{topology.ports.backoffice}, "
        f"journaux dans {topology.log_dir}. Ctrl-C pour tout arrêter.",
        flush=True,
    )
    run_until_stopped(topology)


if __name__ == "__main__":
    main()
