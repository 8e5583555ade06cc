"""Every environment variable the code reads is declared, with its meaning, in .env.example: the one
place an operator reads to configure the assistant (production refuses dev values: bot/config.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.config import SECRET_DEV_VALUES

ROOT = Path(__file__).resolve().parents[2]
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")
# Call shapes that read a variable: env.get("X"), os.environ.get("X"), os.getenv("X"), secret("X"),
# the settings helpers that take the environment then the name (_int(env, "X", ...)), days("X", ...).
READERS = {"get", "getenv", "pop", "secret", "days", "_int", "_float", "_flag", "_seconds"}


def _reads(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and "environ" in ast.unparse(node.value)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            found.add(node.slice.value)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name not in READERS:
            continue
        if name in {"get", "pop"} and not (
            isinstance(func, ast.Attribute) and "env" in ast.unparse(func.value).lower()
        ):
            continue
        for arg in node.args[:2]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and ENV_NAME.match(arg.value):
                found.add(arg.value)
    return found


def variables_read() -> dict[str, str]:
    files = [*ROOT.glob("bot/**/*.py"), *ROOT.glob("actions/*.py"), ROOT / "webhook.py", *ROOT.glob("nlu/**/*.py")]
    where: dict[str, str] = {}
    for path in files:
        if "devtools" in path.parts or "tools" in path.parts:
            continue  # development and one-off tools: their options are their command-line flags
        for name in _reads(ast.parse(path.read_text(encoding="utf-8"))):
            where.setdefault(name, str(path.relative_to(ROOT)))
    for name in SECRET_DEV_VALUES:  # read by name through bot.config.secret(), from this registry
        where.setdefault(name, "bot/config.py")
    return where


def test_the_scan_finds_the_reads_it_must():
    read = variables_read()
    assert {"DATABASE_URL", "FB_APP_SECRET", "MOBILIS_QUOTE_TTL_MINUTES", "MESSAGE_RETENTION_DAYS"} <= set(read)


def test_every_variable_read_is_declared_in_env_example():
    declared = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    missing = {name: where for name, where in variables_read().items() if name not in declared}
    assert missing == {}, f"declare these in .env.example (with a comment saying what they do): {missing}"
