"""gunicorn settings for the Messenger webhook (production, docker-compose, `./mobilis prod-local`).

    gunicorn -c deploy/gunicorn.conf.py webhook:app

Each worker process builds its own app (no preload: the background threads must start after the
fork) and processes events of any user; REDIS_URL makes them share sender locks and rate limits.
"""

from bot.config import get_settings

settings = get_settings()  # a bad setting stops the master before any worker starts
bind = f"{settings.webhook_host}:{settings.webhook_port}"
workers = settings.web_concurrency  # processes; scale with cores
worker_class = "gthread"
threads = settings.webhook_http_threads  # concurrent webhook requests per process
timeout = 30  # a webhook request only stores events: anything near this is a stuck worker
graceful_timeout = 20  # let in-flight turns finish on restart (unfinished ones are resumed anyway)
keepalive = 5
accesslog = None  # our own structured log line per event is enough (and masks what it must)
errorlog = "-"


def on_starting(server):
    """Several worker processes without Redis would each run their own dispatcher (requeueing
    each other's live events, sender locks per process): refuse to start instead."""
    import sys

    if server.cfg.workers > 1 and not settings.redis_url:
        sys.exit(
            f"Refus de démarrer : {server.cfg.workers} processus webhook sans REDIS_URL. Plusieurs "
            "processus doivent partager Redis (verrous par utilisateur, limites) : définissez REDIS_URL, "
            "ou WEB_CONCURRENCY=1."
        )
