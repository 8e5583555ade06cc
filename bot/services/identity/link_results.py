"""What a linking step tells the user: the outcome, its French message and the next question."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.services.dialogue.context import Question, QuestionKind
from bot.services.replies import QuickReply, Reply


class LinkOutcome(str, enum.Enum):
    CODE_SENT = "code_sent"  # also for unknown numbers: never reveal which numbers exist
    INVALID_NUMBER = "invalid_number"
    COOLDOWN = "cooldown"
    TOO_MANY_CODES = "too_many_codes"
    TOO_MANY_NUMBERS = "too_many_numbers"  # one PSID probing several numbers
    LOCKED = "locked"
    NO_CHALLENGE = "no_challenge"
    INVALID_CODE = "invalid_code"  # not 6 digits: not counted as an attempt
    WRONG_CODE = "wrong_code"
    EXHAUSTED = "exhausted"  # third wrong code: this challenge is dead
    EXPIRED = "expired"
    LINKED = "linked"
    UNLINKED = "unlinked"
    NOT_LINKED = "not_linked"
    SWITCHED = "switched"
    SWITCH_REFUSED = "switch_refused"


@dataclass(frozen=True)
class LinkResult:
    outcome: LinkOutcome
    message: str  # French, for the user
    attempts_left: int | None = None
    retry_after_s: int | None = None
    msisdn: str | None = None  # the user's own line, only after LINKED / SWITCHED
    quick_replies: tuple[QuickReply, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome in {LinkOutcome.CODE_SENT, LinkOutcome.LINKED, LinkOutcome.UNLINKED, LinkOutcome.SWITCHED}

    def reply(self) -> Reply:
        kind = EXPECTS.get(self.outcome)
        return Reply(text=self.message, quick_replies=list(self.quick_replies), asks=Question(kind) if kind else None)


# What the user is expected to type next after each outcome: the code, or a number.
EXPECTS = {
    LinkOutcome.CODE_SENT: QuestionKind.OTP_CODE,
    LinkOutcome.WRONG_CODE: QuestionKind.OTP_CODE,
    LinkOutcome.INVALID_CODE: QuestionKind.OTP_CODE,
    LinkOutcome.INVALID_NUMBER: QuestionKind.PHONE_NUMBER,
    LinkOutcome.NO_CHALLENGE: QuestionKind.PHONE_NUMBER,
    LinkOutcome.EXHAUSTED: QuestionKind.PHONE_NUMBER,
    LinkOutcome.EXPIRED: QuestionKind.PHONE_NUMBER,
    LinkOutcome.NOT_LINKED: QuestionKind.PHONE_NUMBER,
}
