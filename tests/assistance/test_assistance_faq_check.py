"""The FAQ check (bot.services.assistance.faq_source; CLI bot.tools.faq_check): every kind of problem
is caught, on the right line, and the real FAQ passes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from assistance_helpers import FAQ_DIR, ROOT

from bot.services import replies
from bot.services.assistance import faq_source
from bot.services.assistance.faq_source import check_dir
from bot.tools.faq_check import main

QUESTIONS = "\n".join(f"    - question numero {i}" for i in range(1, 7))
QUESTIONS_EN = "\n".join(f"    - english question {i}" for i in range(1, 7))


def english(answer_en="An answer.", questions_en=QUESTIONS_EN) -> str:
    """The English fields, as `extra` of entry(): questions_en on line 11 (its list from 12), answer_en on 18."""
    return f"  questions_en:\n{questions_en}\n  answer_en: {answer_en}\n"


def entry(
    entry_id="code_puk", category="sim", answer="Une réponse.", extra="", questions=QUESTIONS, reviewed="2026-11-27"
) -> str:
    return (
        f"- id: {entry_id}\n  category: {category}\n  questions:\n{questions}\n"
        f"  answer: {answer}\n{extra}  reviewed: {reviewed}\n"
    )


def problems_of(write_faq, text, name="sim.yml"):
    write_faq(name, text)
    return check_dir(write_faq.folder).problems


def test_valid_file_has_no_problem(write_faq):
    write_faq("sim.yml", entry())
    result = check_dir(write_faq.folder)
    assert result.problems == []
    assert list(result.entries) == ["code_puk"]
    assert result.entries["code_puk"].questions[0] == "question numero 1"


def test_real_faq_passes():
    result = check_dir(FAQ_DIR)
    assert result.problems == [], "\n".join(map(str, result.problems))
    assert len(result.entries) >= 30


def test_entry_with_english_is_valid_and_warns_nothing(write_faq):
    write_faq("sim.yml", entry(extra=english()))
    result = check_dir(write_faq.folder)
    assert result.problems == [] and result.warnings == []
    puk = result.entries["code_puk"]
    assert puk.answer_en == "An answer." and puk.questions_en[0] == "english question 1"
    assert len(puk.questions_en) == 6 and result.question_count == 6  # the count stays French only


# (name, file text, expected line, words the message must contain)
CASES = [
    ("bad yaml", entry() + '- id: autre\n  answer: "a" b\n  reviewed: 2026-11-27\n', 13, "YAML"),
    ("unclosed quote", entry() + '- id: autre\n  answer: "pas fermé\n', 14, "ligne 13"),
    ("bad indentation", entry() + "- id: autre\n  answer: x\n   reviewed: 2026-11-27\n", 14, "indentation"),
    ("tab indentation", entry() + "- id: x\n\tcategory: sim\n", 13, "tabulation"),
    ("missing answer", entry().replace("  answer: Une réponse.\n", ""), 1, "answer"),
    ("missing reviewed", entry().replace("  reviewed: 2026-11-27\n", ""), 1, "reviewed"),
    ("unknown field", entry(extra="  answers: oups\n"), 11, "answers"),
    ("repeated field", entry(extra="  answer: deux fois\n"), 11, "deux fois"),
    ("id not snake_case", entry(entry_id="Code-PUK"), 1, "Code-PUK"),
    ("answer not text", entry(answer="yes"), 10, "texte"),
    (
        "questions not a list",
        entry(questions="    code puk").replace("  questions:\n    code puk", "  questions: code puk"),
        3,
        "liste",
    ),
    ("too few questions", entry(questions="    - a\n    - b"), 4, "6"),
    ("question not text", entry(questions=QUESTIONS + "\n    - 1000"), 10, "texte"),
    ("question repeated in entry", entry(questions=QUESTIONS + "\n    - Question  numéro 1 ?"), 10, "répétée"),
    ("annotation characters", entry(questions=QUESTIONS + '\n    - "c quoi le [puk](x)"'), 10, "[ ]"),
    ("answer too long", entry(answer="x" * 2001), 10, "2001"),
    (
        "answer too long with buttons",
        entry(answer="x" * 641, extra="  buttons:\n    - title: RDV\n      url: https://www.opt.nc/rdv\n"),
        10,
        "640",
    ),
    (
        "button title too long",
        entry(extra="  buttons:\n    - title: Prendre un rendez-vous en ligne\n      url: https://www.opt.nc/rdv\n"),
        12,
        "20",
    ),
    ("link not https", entry(extra="  buttons:\n    - title: RDV\n      url: http://www.opt.nc/rdv\n"), 13, "https://"),
    (
        "link with space",
        entry(extra="  buttons:\n    - title: RDV\n      url: https://www.opt.nc/mon rdv\n"),
        13,
        "https://",
    ),
    (
        "too many buttons",
        entry(
            extra="  buttons:\n" + "".join(f"    - title: B{i}\n      url: https://www.opt.nc/{i}\n" for i in range(4))
        ),
        12,
        "3 au maximum",
    ),
    ("button without url", entry(extra="  buttons:\n    - title: RDV\n"), 12, "url"),
    ("bad date format", entry(reviewed="27/11/2026"), 11, "AAAA-MM-JJ"),
    ("impossible date", entry(reviewed="2026-02-30"), 11, "2026-02-30"),
    ("category differs from file", entry(category="autre"), 2, "autre"),
    # English fields: same rules as answer and questions.
    ("unknown english field", entry(extra="  question_en: oups\n"), 11, "questions_en"),
    ("answer_en too long", entry(extra=english(answer_en="x" * 2001)), 18, "2001"),
    (
        "answer_en too long with buttons",
        entry(extra=english(answer_en="x" * 641) + "  buttons:\n    - title: RDV\n      url: https://www.opt.nc/rdv\n"),
        18,
        "640",
    ),
    ("answer_en empty", entry(extra="  answer_en:\n"), 11, "vide"),
    ("answer_en not text", entry(extra=english(answer_en="yes")), 18, "texte"),
    ("too few questions_en", entry(extra=english(questions_en="    - a\n    - b")), 12, "6"),
    ("questions_en not a list", entry(extra="  questions_en: puk code\n  answer_en: ok\n"), 11, "liste"),
    (
        "question_en repeated in entry",
        entry(extra=english(questions_en=QUESTIONS_EN + "\n    - English  question 1?")),
        18,
        "répétée",
    ),
    (
        "annotation characters in questions_en",
        entry(extra=english(questions_en=QUESTIONS_EN + '\n    - "what is [puk](x)"')),
        18,
        "[ ]",
    ),
    ("file not a list", "id: code_puk\nanswer: x\n", 1, "liste"),
    ("entry not a mapping", entry() + "- juste du texte\n", 12, "bloc"),
]


@pytest.mark.parametrize("name,text,line,words", CASES, ids=[c[0] for c in CASES])
def test_each_problem_is_reported_on_its_line(write_faq, name, text, line, words):
    problems = problems_of(write_faq, text)
    assert problems, f"{name}: no problem reported"
    matching = [p for p in problems if words in p.message]
    assert matching, f"{name}: no message with {words!r} in {[str(p) for p in problems]}"
    assert matching[0].line == line, f"{name}: {matching[0]}"
    assert matching[0].file.endswith("sim.yml")


def test_duplicate_id_across_files_names_both_places(write_faq):
    write_faq("sim.yml", entry())
    write_faq(
        "autre.yml",
        "# commentaire\n" + entry(category="autre", questions="\n".join(f"    - autre question {i}" for i in range(6))),
    )
    result = check_dir(write_faq.folder)
    dup = [p for p in result.problems if "déjà utilisé" in p.message]
    assert len(dup) == 1
    assert dup[0].file.endswith("sim.yml") and dup[0].line == 1  # sim.yml is read second
    assert "autre.yml ligne 2" in dup[0].message
    assert list(result.entries) == ["code_puk"]  # the first one stays usable


def test_same_normalised_question_in_two_entries(write_faq):
    other_questions = "\n".join(f"    - autre question {i}" for i in range(1, 6))
    other_questions += "\n    - QUESTION   Numéro 3 !"  # same as line 6 once normalised
    write_faq("sim.yml", entry() + entry(entry_id="code_pin", questions=other_questions))
    problems = check_dir(write_faq.folder).problems
    assert len(problems) == 1, problems
    assert problems[0].line == 20
    assert "code_puk" in problems[0].message and "ligne 6" in problems[0].message


def test_same_english_question_in_two_entries(write_faq):
    other_en = "\n".join(f"    - other english {i}" for i in range(1, 6)) + "\n    - ENGLISH question  3 !"
    other = entry(
        entry_id="code_pin",
        questions="\n".join(f"    - autre question {i}" for i in range(1, 7)),
        extra=english(questions_en=other_en),
    )
    write_faq("sim.yml", entry(extra=english()) + other)
    problems = check_dir(write_faq.folder).problems
    assert len(problems) == 1, problems
    assert problems[0].line == 19 + 17  # 6th English question of the second entry (which starts line 20)
    assert "Question anglaise" in problems[0].message
    assert "code_puk" in problems[0].message and "ligne 14" in problems[0].message


def test_an_english_question_may_equal_a_french_one(write_faq):
    # Two models, two sets of examples: "forfait m" may be a French and an English question.
    write_faq("sim.yml", entry(extra=english(questions_en=QUESTIONS_EN + "\n    - question numero 1")))
    assert check_dir(write_faq.folder).problems == []


def test_missing_translation_is_a_warning_not_a_problem(write_faq):
    write_faq(
        "sim.yml",
        entry()  # neither answer_en nor questions_en, line 1
        + entry(entry_id="code_pin", questions=QUESTIONS.replace("numero", "pin"), extra=english()).replace(
            "  answer_en: An answer.\n", ""
        ),  # questions_en without answer_en, line 12
    )
    result = check_dir(write_faq.folder)
    assert result.problems == []
    assert set(result.entries) == {"code_puk", "code_pin"}  # both served
    warnings = {(w.line, w.message) for w in result.warnings}
    assert warnings == {
        (1, "Entrée « code_puk » sans traduction anglaise (answer_en) : elle sera servie en français aux anglophones."),
        (
            1,
            "Entrée « code_puk » sans questions anglaises (questions_en) : le modèle anglais ne la reconnaîtra pas "
            "quand un visiteur pose la question en anglais.",
        ),
        (
            12,
            "Entrée « code_pin » sans traduction anglaise (answer_en) : elle sera servie en français aux anglophones.",
        ),
    }
    assert all(w.file.endswith("sim.yml") for w in result.warnings)


def test_cli_lists_warnings_and_still_succeeds(write_faq, capsys):
    write_faq("sim.yml", entry())
    assert main([str(write_faq.folder)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FAQ OK : 1 entrées, 6 questions")
    assert "2 avertissement(s)" in out
    assert re.search(r"sim\.yml:1: Entrée « code_puk » sans traduction anglaise \(answer_en\)", out)
    write_faq("sim.yml", entry(extra=english()))
    assert main([str(write_faq.folder)]) == 0
    assert "avertissement" not in capsys.readouterr().out
    write_faq("sim.yml", entry(reviewed="demain"))  # a problem: warnings are listed too, exit 1
    assert main([str(write_faq.folder)]) == 1
    out = capsys.readouterr().out
    assert "1 problème(s)" in out and "2 avertissement(s)" in out


def test_every_problem_is_listed_not_only_the_first(write_faq):
    write_faq("sim.yml", entry(entry_id="Bad", answer="x" * 3000, reviewed="hier"))
    assert len(check_dir(write_faq.folder).problems) == 3


def test_empty_folder_and_empty_file_are_problems(write_faq, tmp_path):
    assert check_dir(write_faq.folder).problems  # no .yml at all
    write_faq("sim.yml", "# rien\n")
    assert "vide" in check_dir(write_faq.folder).problems[0].message


def test_cli_exit_codes_and_output(write_faq, capsys):
    write_faq("sim.yml", entry())
    assert main([str(write_faq.folder)]) == 0
    assert "FAQ OK : 1 entrées, 6 questions" in capsys.readouterr().out
    write_faq("sim.yml", entry(reviewed="demain"))
    assert main([str(write_faq.folder)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"sim\.yml:11: .*AAAA-MM-JJ", out)


def test_module_runs_as_a_command():
    done = subprocess.run(
        [sys.executable, "-m", "bot.tools.faq_check", str(FAQ_DIR)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("FAQ OK")


def test_readme_example_is_a_valid_entry(write_faq):
    readme = (FAQ_DIR / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    write_faq("carte_sim.yml", example)
    result = check_dir(write_faq.folder)
    assert result.problems == [] and result.warnings == [] and "code_puk" in result.entries


def test_limits_are_the_messenger_ones():
    assert (replies.TEXT_LIMIT, replies.BUTTON_TEXT_LIMIT) == (2000, 640)
    assert replies.TEMPLATE_BUTTON_LIMIT == 3 and replies.BUTTON_TITLE_LIMIT == 20
    assert faq_source.MIN_QUESTIONS == 6
