"""Understanding a typed message in the context of what the assistant just asked.

Pure Python (standard library only): the Rasa server (its own virtual environment, see
nlu/components/context_resolver.py) and the action server import the same rules, so "is this an
unambiguous yes?" has one definition.

- words: normalising what people type (accents, letters repeated, emojis, SMS spelling);
- judge: yes / no / unclear for a consequential question (purchase, erasure, suspension, unlink);
- quantities: numbers, codes, amounts, volumes, ordinals, months and days, plan facets;
- context: what the assistant asked (question) and talked about (topic), as JSON;
- resolver: the intent a typed message has in that context.
"""
