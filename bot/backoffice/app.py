"""The back office's Flask application (a process of its own: python -m bot.backoffice)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, jsonify, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session

from bot.backoffice import auth
from bot.backoffice.metrics import make_metrics_blueprint
from bot.backoffice.pages import make_pages_blueprint
from bot.config import Settings, get_settings
from bot.db.base import session_factory as make_sessions
from bot.services.assistance.faq_source import DEFAULT_FAQ_DIR

# No script at all, styles from our own file only, never inside a frame (clickjacking).
CSP = "default-src 'self'; script-src 'none'; object-src 'none'; frame-ancestors 'none'; form-action 'self'"


def create_app(settings: Settings | None = None, sessions: Callable[[], Session] | None = None) -> Flask:
    settings = settings or get_settings()
    settings.require("BACKOFFICE_SECRET_KEY")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.backoffice_secret_key,
        SESSION_COOKIE_NAME="mobilis_staff",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=not settings.dev_mode,  # browsers accept Secure cookies on http://localhost
        REMEMBER_COOKIE_DURATION=timedelta(seconds=0),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.backoffice_session_hours),
        WTF_CSRF_TIME_LIMIT=settings.backoffice_session_hours * 3600,
        MAX_CONTENT_LENGTH=256 * 1024,
        MOBILIS_FAQ_DIR=str(Path(settings.faq_dir or DEFAULT_FAQ_DIR).resolve()),
    )
    app.extensions["mobilis_backoffice_sessions"] = sessions or make_sessions(settings.database_url)
    auth.install(app)
    app.register_blueprint(make_pages_blueprint())
    app.register_blueprint(
        make_metrics_blueprint(app.extensions["mobilis_backoffice_sessions"], settings.metrics_token)
    )

    @app.errorhandler(403)
    def forbidden(_error: Exception) -> ResponseReturnValue:
        message = "Cette page est réservée à un autre rôle (relecture : éditeurs ; tableau de bord : opérateurs)."
        return render_template("error.html", title="Accès refusé", message=message), 403

    @app.errorhandler(404)
    def not_found(_error: Exception) -> ResponseReturnValue:
        message = "Cette page n'existe pas, ou ce groupe de messages a déjà été traité."
        return render_template("error.html", title="Introuvable", message=message), 404

    @app.errorhandler(CSRFError)
    def csrf_refused(_error: Exception) -> ResponseReturnValue:
        message = "Le formulaire a expiré ou ne vient pas de cette page : rechargez la page et recommencez."
        return render_template("error.html", title="Formulaire refusé", message=message), 400

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify({"status": "ok"})

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"  # masked messages, figures: never in a shared cache
        return response

    return app
