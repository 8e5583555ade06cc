"""The back office's pages: the review queue (editors) and the dashboard (operators)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy.orm import Session

from bot import clock
from bot.backoffice.auth import requires, sessions, staff
from bot.services.assistance import faq, faq_editing, faq_source
from bot.services.fr_format import NOUMEA
from bot.services.i18n import ENGLISH
from bot.services.insights import dashboard, review
from bot.services.insights.turns import ATTACHED, DISMISSED, ReviewReason

REASONS = {
    ReviewReason.FALLBACK: "Pas compris",
    ReviewReason.LOW_CONFIDENCE: "Réponse peu sûre",
    ReviewReason.DISAMBIGUATION: "A dû demander",
    ReviewReason.THUMBS_DOWN: "Noté 👎",
}
PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
TRAIN_HINT = "Le modèle apprendra ces questions au prochain « ./mobilis train » (puis redémarrage de Rasa)."


def today() -> date:
    """The editors' date (New Caledonia), for the entries' `reviewed` field."""
    return clock.utcnow().astimezone(NOUMEA).date()


def faq_dir() -> Path:
    return Path(current_app.config["MOBILIS_FAQ_DIR"])


def make_pages_blueprint() -> Blueprint:
    bp = Blueprint("pages", __name__)

    @bp.get("/")
    @login_required
    def home() -> ResponseReturnValue:
        return redirect(url_for("pages.queue" if staff().can_review else "pages.board"))

    @bp.get("/review")
    @requires("can_review")
    def queue() -> ResponseReturnValue:
        with sessions()() as db:
            groups = review.open_groups(db)
        return render_template("review_list.html", groups=groups, reasons=REASONS)

    def group_or_404(db: Session, key: int) -> review.ReviewGroup:
        group = review.find_group(db, key)
        if group is None:
            abort(404)
        return group

    def group_page(found: review.ReviewGroup, problems: list[str]) -> str:
        return render_template(
            "review_group.html",
            group=found,
            reasons=REASONS,
            entries=faq.titles(faq_dir()),
            categories=[p.stem for p in faq_source.faq_files(faq_dir())],
            problems=problems,
        )

    @bp.get("/review/<int:key>")
    @requires("can_review")
    def group(key: int) -> ResponseReturnValue:
        with sessions()() as db:
            found = group_or_404(db, key)
        return group_page(found, [])

    def changed(found: review.ReviewGroup, change: faq_editing.FaqChange, entry: str) -> ResponseReturnValue:
        with sessions()() as db:
            closed = review.close(db, [i.id for i in found.items], ATTACHED, staff().username, clock.utcnow(), entry)
            db.commit()
        return render_template("faq_change.html", change=change, entry=entry, closed=closed, hint=TRAIN_HINT)

    def refused(found: review.ReviewGroup, problems: list[str]) -> ResponseReturnValue:
        return group_page(found, problems), 422

    @bp.post("/review/<int:key>/attach")
    @requires("can_review")
    def attach(key: int) -> ResponseReturnValue:
        with sessions()() as db:
            found = group_or_404(db, key)
        entry = request.form.get("entry", "")
        questions = request.form.get("questions", "").splitlines()
        try:
            change = faq_editing.add_questions(faq_dir(), entry, questions, today(), english=found.language == ENGLISH)
        except faq_editing.FaqEditError as exc:
            return refused(found, exc.problems)
        return changed(found, change, entry)

    @bp.post("/review/<int:key>/new-entry")
    @requires("can_review")
    def new_entry(key: int) -> ResponseReturnValue:
        with sessions()() as db:
            found = group_or_404(db, key)
        form = request.form
        try:
            change = faq_editing.add_entry(
                faq_dir(),
                form.get("category", ""),
                form.get("entry_id", "").strip(),
                form.get("title", ""),
                form.get("questions", "").splitlines(),
                form.get("answer", ""),
                today(),
            )
        except faq_editing.FaqEditError as exc:
            return refused(found, exc.problems)
        return changed(found, change, form.get("entry_id", "").strip())

    @bp.post("/review/<int:key>/dismiss")
    @requires("can_review")
    def dismiss(key: int) -> ResponseReturnValue:
        with sessions()() as db:
            found = group_or_404(db, key)
            review.close(db, [i.id for i in found.items], DISMISSED, staff().username, clock.utcnow())
            db.commit()
        return redirect(url_for("pages.queue"))

    @bp.get("/dashboard")
    @requires("can_see_dashboard")
    def board() -> ResponseReturnValue:
        period = request.args.get("period", "24h")
        if period not in PERIODS:
            period = "24h"
        until = clock.utcnow()
        with sessions()() as db:
            figures = dashboard.figures(db, until - PERIODS[period], until)
        return render_template("dashboard.html", f=figures, period=period, periods=list(PERIODS))

    return bp
