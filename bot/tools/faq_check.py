"""Check the FAQ files (faq/*.yml) and explain each problem with its file and line.

Usage: python -m bot.tools.faq_check [faq_dir]      (./mobilis faq-check calls this)
Exit 0 with a summary when everything is fine, 1 with the list of problems otherwise.
Warnings (an entry without its English translation, `answer_en` or `questions_en`) are listed
after the summary or the problems and never change the exit code.
"""

from __future__ import annotations

import sys

from bot.services.assistance.faq_source import Problem, check_dir


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0] in {"-h", "--help"}):
        print(__doc__.strip())
        return 0 if args and args[0] in {"-h", "--help"} else 2
    result = check_dir(args[0] if args else None)
    if result.problems:
        print(f"FAQ : {len(result.problems)} problème(s) à corriger :")
        for problem in sorted(result.problems, key=lambda p: (p.file, p.line)):
            print(f"  {problem}")
        _print_warnings(result.warnings)
        return 1
    categories = sorted({e.category for e in result.entries.values()})
    print(
        f"FAQ OK : {len(result.entries)} entrées, {result.question_count} questions, "
        f"{len(result.files)} fichiers ({', '.join(categories)})."
    )
    _print_warnings(result.warnings)
    return 0


def _print_warnings(warnings: list[Problem]) -> None:
    if not warnings:
        return
    print(f"{len(warnings)} avertissement(s), sans conséquence sur la vérification :")
    for warning in sorted(warnings, key=lambda p: (p.file, p.line)):
        print(f"  {warning}")


if __name__ == "__main__":
    sys.exit(main())
