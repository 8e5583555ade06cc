"""Start the processes of the assistant (action server, Rasa server, webhook, the staff's back office;
the Rasa server of the English model when there is one; the local operator stub when the assistant
talks TM Forum to it),
wait until each one answers, and stop them all together.

Used by `./mobilis run` (foreground, Ctrl-C stops everything) and by the end-to-end tests, so both
exercise exactly the same start-up.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bot.config import PROJECT_ROOT, get_settings
from bot.internal_auth import INTERNAL_TOKEN, RASA_API_TOKEN


@dataclass
class Ports:
    webhook: int = 8080
    rasa: int = 5005
    rasa_en: int = 5015  # the English model (docs/english.md); clear of prod-local's 5005, 5006, …
    actions: int = 5055
    operator: int = 8090  # the local operator stub, when the stack talks TM Forum to it
    backoffice: int | None = 8070  # the staff's back office (review queue, dashboard); None: not started


STUB_CLIENT_ID = "mobilis-assistant"


def wants_operator_stub(env: Mapping[str, str]) -> bool:
    """OPERATOR_BACKEND=tmf without an operator to talk to: the local stub plays it (development)."""
    return env.get("OPERATOR_BACKEND", "").lower() == "tmf" and not env.get("OPERATOR_API_URL")


def operator_stub_env(port: int) -> dict[str, str]:
    """What points the assistant at the local operator stub (TM Forum APIs on loopback)."""
    url = f"http://127.0.0.1:{port}"
    return {
        "OPERATOR_BACKEND": "tmf",
        "OPERATOR_API_URL": url,
        "OPERATOR_TOKEN_URL": f"{url}/oauth/token",
        "OPERATOR_CLIENT_ID": STUB_CLIENT_ID,
        # Linking codes stay in the outbox: they are sent inside the linking transaction, and the
        # stub, on the same SQLite file, could not write while that transaction holds it (a real
        # operator has its own database; TMF681 is checked against the stub in tests/operator).
    }


class NamedProcess(subprocess.Popen[bytes]):
    """A child of the stack; its name is that of its log file and of the errors about it."""

    name: str


@dataclass
class Stack:
    rasa_bin: str
    model: str
    ports: Ports = field(default_factory=Ports)
    env: dict[str, str | None] = field(default_factory=dict)  # None removes an inherited variable
    log_dir: Path = PROJECT_ROOT / "var" / "log"
    operator_stub: bool = False  # also start the local operator stub and talk TM Forum to it
    model_en: str | None = None  # the English model: a second Rasa server, visitors answered in English
    processes: list[NamedProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env = {**internal_tokens(self.env), **self.env}
        if self.model_en:
            self.env["RASA_URL_EN"] = f"http://127.0.0.1:{self.ports.rasa_en}"
        if self.operator_stub:
            self.env.update(operator_stub_env(self.ports.operator))

    @property
    def rasa_api_params(self) -> dict[str, str]:
        return {"token": self._environment()[RASA_API_TOKEN]}

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            RASA_TELEMETRY_ENABLED="false",
            RASA_URL=f"http://127.0.0.1:{self.ports.rasa}",
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.ports.actions}/webhook",
            WEBHOOK_HOST="127.0.0.1",
            WEBHOOK_PORT=str(self.ports.webhook),
            PUBLIC_URL=f"http://127.0.0.1:{self.ports.webhook}",
            PYTHONPATH=str(PROJECT_ROOT),
        )
        for name, value in self.env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def _spawn(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = self._environment()
        env.update(extra_env or {})
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy of the descriptor
            process = NamedProcess(
                argv,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() also ends its children
            )
        process.name = name
        self.processes.append(process)

    def start(self, timeout: float = 180.0) -> None:
        python = sys.executable
        if self.operator_stub:
            self._spawn("operator", [python, "-m", "bot.devtools.operator_stub", "--port", str(self.ports.operator)])
        self._spawn("actions", action_server_argv(python, self.ports.actions))
        servers = [("rasa", self.model, self.ports.rasa)]
        if self.model_en:
            servers.append(("rasa-en", self.model_en, self.ports.rasa_en))
        for name, model, port in servers:
            self._spawn(name, rasa_argv(self.rasa_bin, self._environment(), model, port), rasa_log_env())
        self._spawn("webhook", [python, "webhook.py"])
        if self.ports.backoffice is not None:
            backoffice = ["--host", "127.0.0.1", "--port", str(self.ports.backoffice)]
            self._spawn("backoffice", [python, "-m", "bot.backoffice", *backoffice])
        deadline = time.monotonic() + timeout
        if self.operator_stub:
            self._wait(f"http://127.0.0.1:{self.ports.operator}/_stub/calls", deadline)
        self._wait(f"http://127.0.0.1:{self.ports.actions}/health", deadline)
        self._wait(f"http://127.0.0.1:{self.ports.webhook}/healthz", deadline)
        if self.ports.backoffice is not None:
            self._wait(f"http://127.0.0.1:{self.ports.backoffice}/healthz", deadline)
        for _name, _model, port in servers:
            self._wait(
                f"http://127.0.0.1:{port}/status",
                deadline,
                ready=lambda r: bool(r.json().get("model_id")),
                params=self.rasa_api_params,
            )

    def _wait(
        self,
        url: str,
        deadline: float,
        ready: Callable[[requests.Response], bool] = lambda r: True,
        params: dict[str, Any] | None = None,
    ) -> None:
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                response = requests.get(url, params=params, timeout=2)
                if response.ok and ready(response):
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"{url} did not become ready; see logs in {self.log_dir}")

    def _check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                name = process.name
                self.stop()
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.log_dir}/{name}.log")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the Mobilis Assistant stack locally")
    parser.add_argument("--rasa-bin", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--model-en", help="the English model (a second Rasa server); absent: French only")
    stub = wants_operator_stub(os.environ)
    if stub:
        os.environ.update(operator_stub_env(Ports.operator))
    parser.add_argument("--port", type=int, default=get_settings().webhook_port)
    args = parser.parse_args()
    model_en = args.model_en if args.model_en and Path(args.model_en).exists() else None
    stack = Stack(
        rasa_bin=args.rasa_bin, model=args.model, model_en=model_en, ports=Ports(webhook=args.port), operator_stub=stub
    )
    print("Démarrage du serveur d'actions, de Rasa et du webhook… (30 s environ, 60 s avec l'anglais)", flush=True)
    try:
        stack.start()
    except (TimeoutError, RuntimeError) as error:
        print(f"Échec du démarrage : {error}", file=sys.stderr)
        sys.exit(1)
    print(
        f"\nMobilis Assistant est prêt.\n  Simulateur Messenger : http://127.0.0.1:{args.port}/dev/simulator\n"
        f"  Back office (messages à revoir, tableau de bord) : http://127.0.0.1:{stack.ports.backoffice}"
        " — premier compte : ./mobilis staff add NOM --role admin\n"
        + ("  Opérateur : le bouchon TM Forum local (OPERATOR_BACKEND=tmf)\n" if stub else "")
        + f"  Journaux : {stack.log_dir}\nCtrl-C pour tout arrêter.",
        flush=True,
    )
    run_until_stopped(stack)


def internal_tokens(env: dict[str, str | None]) -> dict[str, str]:
    """The internal and Rasa API tokens for one start: the configured ones, else random ones
    (the launcher gives them to all three processes, so nobody else knows them)."""
    tokens = {}
    for name in (INTERNAL_TOKEN, RASA_API_TOKEN):
        tokens[name] = env.get(name) or os.environ.get(name) or secrets.token_hex(32)
    return tokens


def action_server_argv(python: str, port: int) -> list[str]:
    return [python, "-m", "actions.server", "--port", str(port)]


def rasa_argv(
    rasa_bin: str, env: dict[str, str], model: str, port: int | str, endpoints: str = "nlu/endpoints.yml"
) -> list[str]:
    """A Rasa server on 127.0.0.1 (the production topology passes its own endpoints file)."""
    return [
        rasa_bin,
        "run",
        *rasa_api_args(env),
        "--model",
        model,
        "--endpoints",
        endpoints,
        "--credentials",
        "nlu/credentials.yml",
        "--interface",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def rasa_api_args(env: dict[str, str]) -> list[str]:
    """Rasa's HTTP API (status for readiness, trackers for erasure) only with the token."""
    return ["--enable-api", f"--auth-token={env[RASA_API_TOKEN]}"]  # "=": a token may start with "-"


def rasa_log_env() -> dict[str, str]:
    # Rasa reads LOG_LEVEL too, and at DEBUG it logs every user text and answer unmasked: the
    # webhook's LOG_LEVEL must not leak into it (RASA_LOG_LEVEL=DEBUG for a deliberate session).
    return {"LOG_LEVEL": get_settings().rasa_log_level}


def run_until_stopped(stack: Stack) -> None:
    """Foreground supervision: Ctrl-C or SIGTERM stops every process; so does one of them dying."""
    stopping = []
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            stack._check_alive()
            time.sleep(1)
    except RuntimeError as error:
        print(f"Un processus s'est arrêté : {error}", file=sys.stderr)
    finally:
        print("\nArrêt…", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
