"""Is a typed reply an unambiguous yes to a consequential question?

Money, erasure, suspension and unlinking only happen on a clear affirmative to *that* question.
The rule is deliberately strict and lexical (no model can be trusted with "je ne confirme pas",
which the NLU once read as a confirmation at 0.81):

- YES: a short reply (≤ 8 words) made of affirmative words ("oui", "ok", "go", "je confirme",
  "vas-y", 👍…), polite filler and the question's own verbs, with no negation, hesitation,
  condition, question mark or other product, and at most one word we do not know;
- NO: a refusal or a cancellation without any affirmative ("non", "annule", "pas maintenant",
  "je ne confirme pas"); refusing is always harmless, so it may be read more loosely;
- UNCLEAR: everything else — the caller asks again with the buttons.

An NLU reading of refusal (deny / cancel_purchase / decline_terms) vetoes a YES.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable

from bot.services.dialogue.words import has_question_mark, phrase_in, squash, tokens


class Verdict(str, enum.Enum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


def _lexicon(*words: str) -> frozenset[str]:
    return frozenset(squash(w) for w in words)


def _phrases(*phrases: str) -> tuple[str, ...]:
    return tuple(" ".join(squash(w) for w in p.split()) for p in phrases)


YES_WORDS = _lexicon(
    "oui",
    "ouii",
    "ouai",
    "ouais",
    "ouaip",
    "ouep",
    "oue",
    "wi",
    "ui",
    "we",
    "wai",
    "yes",
    "yep",
    "yeah",
    "yup",
    "ok",
    "okay",
    "oki",
    "okey",
    "okok",
    "dac",
    "dacc",
    "daccord",
    "acord",
    "accord",
    "confirme",
    "confirmer",
    "confirm",
    "confirmed",
    "confirmé",
    "valide",
    "valider",
    "validé",
    "go",
    "vasy",
    "vazy",
    "parfait",
    "nickel",
    "carrement",
    "absolument",
    "exactement",
    "evidemment",
    "affirmatif",
    "entendu",
    "banco",
    "grave",
    "sure",
    "certainement",
    "volontiers",
    "impec",
    "impeccable",
    "super",
    "genial",
    "top",
    "good",
    "okidoki",
)
YES_PHRASES = _phrases(
    "c est bon",
    "c bon",
    "cest bon",
    "ca marche",
    "ca roule",
    "bien sur",
    "bien entendu",
    "pas de souci",
    "pas de soucis",
    "pas de probleme",
    "pas de pb",
    "pas de prob",
    "sans probleme",
    "sans souci",
    "no problem",
    "je veux bien",
    "vas y",
    "va y",
    "allez y",
    "allez vas y",
    "on y va",
    "fais le",
    "fait le",
    "tout a fait",
    "of course",
    "lets go",
    "let s go",
    "c parti",
    "c est parti",
    "je le veux",
)
NO_WORDS = _lexicon(
    "non",
    "nn",
    "nan",
    "no",
    "nope",
    "nop",
    "niet",
    "nah",
    "pas",
    "pa",
    "ne",
    "n",
    "jamais",
    "aucun",
    "aucunement",
    "rien",
    "refuse",
    "refus",
    "stop",
    "arrete",
    "arreter",
    "annule",
    "annuler",
    "annulation",
    "cancel",
    "abandonne",
    "abandonner",
    "oublie",
    "laisse",
    "tomber",
    "negatif",
    "nul",
)
HESITATION_WORDS = _lexicon(
    "peut",
    "etre",
    "ptet",
    "ptetre",
    "peutetre",
    "petetre",
    "sais",
    "sai",
    "jsp",
    "chai",
    "chais",
    "chepa",
    "jsais",
    "hesite",
    "hesiter",
    "reflechir",
    "reflechis",
    "reflechi",
    "attends",
    "attend",
    "attendez",
    "att",
    "minute",
    "instant",
    "bof",
    "mouais",
    "euh",
    "heu",
    "hum",
    "hmm",
    "mmh",
    "voir",
    "verra",
    "pourquoi",
    "combien",
    "quoi",
    "comment",
    "quel",
    "quelle",
    "quand",
    "ou",
    "si",
    "mais",
    "sauf",
    "seulement",
    "condition",
    "avant",
    "apres",
    "tard",
    "demain",
    "ensuite",
    "later",
    "plutot",
    "autre",
    "prefere",
    "preferer",
    "change",
    "changer",
    "sur",
    "surement",
    "probablement",
    "possible",
    "doute",
    "enerve",
    "moins",
    "plus",
    "cher",
    "trop",
    "faut",
    "dois",
    "vraiment",
    "serieux",
    "serieusement",
    "sinon",
    "lequel",
    "laquelle",
    "question",
    "hein",
    "crois",
    "jcrois",
    "croit",
    "pense",
    "jpense",
    "suppose",
    "normalement",
    "genre",
    "mdr",
    "lol",
    "ptdr",
    "mouai",
)
# Said with a shrug, "c'est ça" is as often sarcasm as agreement.
HESITATION_PHRASES = _phrases("c est ca", "cest ca", "c ca")
# Words that carry no decision: politeness, pronouns, the product or the act itself.
FILLER_WORDS = _lexicon(
    "je",
    "j",
    "moi",
    "le",
    "la",
    "les",
    "l",
    "ce",
    "c",
    "cest",
    "est",
    "ca",
    "cela",
    "tout",
    "bien",
    "merci",
    "mrc",
    "mci",
    "svp",
    "stp",
    "sil",
    "s",
    "il",
    "te",
    "vous",
    "plait",
    "plais",
    "please",
    "pls",
    "plz",
    "alors",
    "bon",
    "allez",
    "a",
    "de",
    "du",
    "d",
    "mon",
    "ma",
    "mes",
    "achat",
    "pass",
    "recharge",
    "internet",
    "mo",
    "go",
    "f",
    "xpf",
    "francs",
    "franc",
    "ligne",
    "y",
    "et",
    "donc",
    "voila",
    "frere",
    "madame",
    "monsieur",
    "chef",
    "mr",
    "mme",
    "veux",
    "vx",
    "souhaite",
    "bonne",
    "journee",
    "maintenant",
    "direct",
    "desuite",
    "suite",
    "fais",
    "fait",
    "faire",
    "up",
    "topup",
    "imd",
    "donnees",
    "data",
    "ci",
    "ceci",
    "un",
    "une",
    "que",
    "qu",
)
# Cancelling is harmless: "ok annule" is a cancellation unless a confirming verb is there too.
CANCEL_WORDS = _lexicon(
    "annule", "annuler", "annulation", "cancel", "stop", "arrete", "arreter", "abandonne", "abandonner", "oublie"
)
CONFIRM_VERBS = _lexicon("confirme", "confirmer", "confirm", "valide", "valider", "go", "vasy", "vazy")
# With _negated_verb ("je ne confirme pas", "j'accepte pas"): the refusals that carry no verb.
REFUSAL_PHRASES = _phrases(
    "pas confirmer",
    "pas maintenant",
    "pas la peine",
    "pas besoin",
    "non merci",
    "sans facon",
    "laisse tomber",
    "pas d accord",
    "pas dacord",
    "pas ok",
    "change d avis",
    "plus tard",
    "pas pour l instant",
    "pas pour le moment",
    "pas tout de suite",
    "pas aujourd hui",
)
NEGATIVE_INTENTS = frozenset(
    {"deny", "cancel_purchase", "decline_terms", "cancel_erase_data", "cancel_suspend", "cancel_unlink"}
)
# "/confirm_purchase", "confirm_purchase{...}": a payload typed by hand is not a person's yes.
_MACHINE_TEXT = re.compile(r"[/_{}\[\]]")
MAX_WORDS = 8
MAX_UNKNOWN = 1


def judge(
    text: str | None,
    *,
    act_words: Iterable[str] = (),
    object_words: Iterable[str] = (),
    allowed_numbers: Iterable[str] = (),
    nlu_intent: str | None = None,
) -> Verdict:
    """Verdict for a typed reply to a consequential question.

    act_words: the question's own verbs ("efface", "suspendre"…): a reply made of them is a yes.
    object_words: words naming what the question is about ("conditions", "ligne"): neutral.
    allowed_numbers: numbers that restate the question (the quoted price); any other number
      ("oui le 5000") is another request, so unclear.
    nlu_intent: the NLU's reading; a refusal reading vetoes a yes.
    """
    words = tokens(text)
    if not words or _MACHINE_TEXT.search(text or ""):
        return Verdict.UNCLEAR
    acts = _lexicon(*act_words)
    objects = _lexicon(*object_words)
    allowed = {str(n) for n in allowed_numbers}
    remaining = list(words)
    affirmative = False
    for phrase in YES_PHRASES:
        if phrase_in(remaining, phrase):
            affirmative = True
            remaining = _without(remaining, phrase)
    refused = _negated_verb(remaining, acts)
    for phrase in REFUSAL_PHRASES:
        if phrase_in(remaining, phrase):
            refused = True
            remaining = _without(remaining, phrase)
    negative = refused or any(w in NO_WORDS for w in remaining)
    affirmative = affirmative or any(w in YES_WORDS or w in acts for w in remaining)
    hesitant = (
        has_question_mark(text)
        or any(w in HESITATION_WORDS for w in remaining)
        or any(phrase_in(remaining, phrase) for phrase in HESITATION_PHRASES)
    )
    foreign_number = any(w.isdigit() and w not in allowed for w in remaining)

    cancelled = any(w in CANCEL_WORDS for w in remaining)
    confirming = any(w in CONFIRM_VERBS or w in acts for w in remaining)
    if not hesitant and ((negative and (refused or not affirmative)) or (cancelled and not confirming)):
        return Verdict.NO
    if negative or hesitant or foreign_number or not affirmative:
        return Verdict.UNCLEAR
    unknown = [
        w for w in remaining if not (w in YES_WORDS or w in acts or w in objects or w in FILLER_WORDS or w.isdigit())
    ]
    if len(words) > MAX_WORDS or len(unknown) > MAX_UNKNOWN:
        return Verdict.UNCLEAR
    if nlu_intent in NEGATIVE_INTENTS:
        return Verdict.UNCLEAR
    return Verdict.YES


_VERBS = _lexicon("confirme", "confirmer", "valide", "valider", "veux", "veut", "vx")
_AFTER_VERB = _lexicon("pas", "pa", "jamais", "rien")
_BEFORE_VERB = _lexicon("ne", "n")


def _negated_verb(words: list[str], acts: frozenset[str]) -> bool:
    """ "je ne confirme pas", "j'accepte pas", "efface pas": the act itself refused."""
    verbs = _VERBS | acts
    for i, word in enumerate(words):
        if word not in verbs:
            continue
        before = words[i - 1] if i > 0 else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if before in _BEFORE_VERB or after in _AFTER_VERB:
            return True
    return False


def _without(words: list[str], phrase: str) -> list[str]:
    """`words` with every occurrence of `phrase` taken out (so "pas de souci" is not a "pas")."""
    target = phrase.split()
    out, i = [], 0
    while i < len(words):
        if words[i : i + len(target)] == target:
            i += len(target)
        else:
            out.append(words[i])
            i += 1
    return out


# Hesitations that only make sense as an answer ("ou", "si", "quand"… also start new questions).
_PAUSE_WORDS = _lexicon(
    "peut",
    "ptet",
    "ptetre",
    "peutetre",
    "jsp",
    "chais",
    "chepa",
    "hesite",
    "reflechir",
    "reflechis",
    "attends",
    "attend",
    "att",
    "bof",
    "mouais",
    "euh",
    "heu",
    "hum",
    "hmm",
)


def decision_words(text: str | None) -> bool:
    """Whether the text says yes, no, or hesitates: then it answers the question just asked."""
    words = tokens(text)
    return any(w in YES_WORDS or w in NO_WORDS or w in _PAUSE_WORDS or w in CANCEL_WORDS for w in words) or any(
        phrase_in(words, p) for p in YES_PHRASES + REFUSAL_PHRASES
    )
