"""Create the alerts' utility message templates on the Page and record their approval state.

    python -m bot.channel.alert_templates      (GRAPH_API_URL: the webhook's stand-in in dev mode)

Idempotent: each template of data/alert_templates.yml is looked up by name first
(GET /{page-id}/message_templates?name=…); only a missing one is created (POST, category UTILITY).
Meta's answer (id, status) is recorded; later changes arrive on the webhook
(`message_template_status_update`). An approved template cannot be edited: a new text needs a new
name in the file.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.channel.graph import GraphClient, GraphError
from bot.clock import now_or
from bot.services.alerts.templates import TemplateSpec, load_templates, record_status

log = logging.getLogger(__name__)


def sync_templates(
    graph: GraphClient,
    sessions: Callable[[], Session],
    page_id: str,
    specs: list[TemplateSpec],
    now: datetime | None = None,
) -> list[str]:
    """One line per template: its name and state (created, or as Meta has it)."""
    now = now_or(now)
    lines = []
    for spec in specs:
        found = graph.get(f"{page_id}/message_templates", {"name": spec.name, "fields": "id,name,language,status"})
        mine = [t for t in found.get("data") or [] if t.get("language") == spec.language]
        if mine:
            remote, verb = mine[0], "déjà présent"
        else:
            remote, verb = graph.post(f"{page_id}/message_templates", spec.create_request()), "créé"
        status = str(remote.get("status") or "PENDING")
        with sessions() as session:
            record_status(session, spec.name, spec.language, status, now, str(remote.get("id") or "") or None)
            session.commit()
        lines.append(f"{spec.name} ({spec.language}) : {verb}, {status}")
    return lines


def main() -> int:
    from bot import logmask
    from bot.channel.graph import graph_base_url, graph_client_from_settings
    from bot.config import ConfigError, get_settings
    from bot.db.base import session_factory

    try:
        settings = get_settings()
        settings.require("FB_PAGE_ACCESS_TOKEN", "FB_APP_SECRET")
    except ConfigError as exc:
        print(f"Configuration incomplète : {exc}", file=sys.stderr)
        return 2
    logmask.configure()
    specs = list(load_templates(settings.alerts_templates_file or None).values())
    graph = graph_client_from_settings(settings, graph_base_url(settings), attempts=3)
    try:
        lines = sync_templates(graph, session_factory(settings.database_url), settings.page_id, specs)
    except GraphError as exc:
        log.error("alert templates not synchronised: %s", exc)
        print(f"Échec de la synchronisation des modèles d'alerte (code {exc.code}).", file=sys.stderr)
        return 1
    finally:
        graph.close()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
