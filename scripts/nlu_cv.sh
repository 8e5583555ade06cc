#!/usr/bin/env bash
# 5-fold cross-validation of the NLU pipeline (slow: 5 trainings, ~15 min on 2 cores).
# Exports the FAQ questions first (nlu/data/faq.yml is generated), then runs scripts/nlu_cv.py
# with the rasa environment: reports in results/nlu-cv/, summary in docs/nlu-cross-validation.md,
# confusion matrix copied to docs/img/nlu-cv-confusion.png. Extra arguments go to nlu_cv.py.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export RASA_TELEMETRY_ENABLED=false
# The pipeline's own component (nlu.components.context_resolver) is imported from the project root.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
.venv/app/bin/python -m bot.tools.faq_export
exec .venv/rasa/bin/python scripts/nlu_cv.py --folds 5 --out results/nlu-cv \
  --doc docs/nlu-cross-validation.md --png docs/img/nlu-cv-confusion.png "$@"
