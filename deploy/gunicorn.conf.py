"""gunicorn settings for the Messenger webhook (production, docker-compose, `./mobilis prod-local`).

    gunicorn -c deploy/gunicorn.conf.py webhook:app

Each worker process builds its own app (no preload: the background threads must start after the
fork) and processes events of any user; REDIS_URL makes them share sender locks and rate limits.
"""

import os

bind = f"{os.environ.get('WEBHOOK_HOST', '0.0.0.0')}:{os.environ.get('WEBHOOK_PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))  # processes; scale with cores
worker_class = "gthread"
threads = int(os.environ.get("WEBHOOK_HTTP_THREADS", "8"))  # concurrent webhook requests per process
timeout = 30  # a webhook request only stores events: anything near this is a stuck worker
graceful_timeout = 20  # let in-flight turns finish on restart (unfinished ones are resumed anyway)
keepalive = 5
accesslog = None  # our own structured log line per event is enough (and masks what it must)
errorlog = "-"


def on_starting(server):
    """Several worker processes without Redis would each run their own dispatcher (requeueing
    each other's live events, sender locks per process): refuse to start instead."""
    import sys

    if server.cfg.workers > 1 and not os.environ.get("REDIS_URL"):
        sys.exit(
            f"Refus de démarrer : {server.cfg.workers} processus webhook sans REDIS_URL. Plusieurs "
            "processus doivent partager Redis (verrous par utilisateur, limites) : définissez REDIS_URL, "
            "ou WEB_CONCURRENCY=1."
        )
