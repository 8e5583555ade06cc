"""Logins of the back office: Flask-Login sessions in a signed, HttpOnly, SameSite cookie (Secure
outside development mode), CSRF tokens on every form (Flask-WTF), roles checked on every page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from bot import clock
from bot.services.staff import accounts
from bot.services.staff.accounts import StaffUser

F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Connectez-vous pour continuer."
login_manager.session_protection = "strong"


class StaffLogin(UserMixin):
    def __init__(self, user: StaffUser):
        self.user = user

    def get_id(self) -> str:
        return str(self.user.id)


def sessions() -> Any:
    return current_app.extensions["mobilis_backoffice_sessions"]


@login_manager.user_loader
def _load(user_id: str) -> StaffLogin | None:
    if not user_id.isdigit():
        return None
    with sessions()() as db:
        user = accounts.active_user(db, int(user_id))
    return StaffLogin(user) if user is not None else None


def staff() -> StaffUser:
    return cast(StaffLogin, current_user).user


def requires(permission: str) -> Callable[[F], F]:
    """A page for `can_review` or `can_see_dashboard` staff only (403 for the others)."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not getattr(staff(), permission):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate


def _safe_next(target: str | None) -> str | None:
    """Only a path of this site (never `//evil.example` nor a full URL)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def make_auth_blueprint() -> Blueprint:
    bp = Blueprint("auth", __name__)

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> ResponseReturnValue:
        if request.method == "POST":
            username = request.form.get("username", "")
            password = request.form.get("password", "")
            with sessions()() as db:
                user = accounts.authenticate(db, username, password, clock.utcnow())
                db.commit()
            if user is None:
                flash("Identifiant ou mot de passe incorrect (ou compte bloqué 15 minutes après 5 essais).")
                return render_template("login.html", username=username), 401
            session.clear()  # nothing from before the login survives it
            session.permanent = True
            login_user(StaffLogin(user))
            return redirect(_safe_next(request.args.get("next")) or url_for("pages.home"))
        return render_template("login.html", username="")

    @bp.post("/logout")
    def logout() -> ResponseReturnValue:
        logout_user()
        session.clear()
        return redirect(url_for("auth.login"))

    return bp


def install(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    app.register_blueprint(make_auth_blueprint())
