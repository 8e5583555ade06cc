"""Run by tests/nlu/test_ngram_blend_component.py with the Rasa environment's Python.

Trains NgramBlendClassifier on a small dataset, persists and loads it through Rasa's model storage,
then processes messages that already carry a DIET-like reading, and prints the readings as JSON.
"""

import json
import sys
import tempfile
from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components.ngram_blend import NgramBlendClassifier

EXAMPLES = {
    "show_balance": ["mon solde", "il me reste combien de credit", "cb il me rest", "solde svp", "mon credit"],
    "buy": ["je veux acheter un pass", "recharger 1000", "acheter internet", "prendre un pass 1 go", "recharge"],
    "faq/code_puk": ["c quoi le code puk", "code puk bloque", "ou trouver mon puk", "puk sim", "8 chiffres puk"],
    "faq/roaming": ["internet a l etranger", "roaming australie", "mon tel marche en france", "itinerance", "voyage"],
}


def main() -> None:
    examples = []
    for label, texts in EXAMPLES.items():
        intent, _, response = label.partition("/")
        for text in texts:
            data = {"text": text, "intent": intent}
            if response:
                data["intent_response_key"] = label
            examples.append(Message(data=data))
    responses = {"utter_faq/code_puk": [{"text": "Le PUK…"}], "utter_faq/roaming": [{"text": "À l'étranger…"}]}
    training = TrainingData(training_examples=examples, responses=responses)

    storage = LocalModelStorage(Path(tempfile.mkdtemp()))
    resource = Resource("ngram_blend")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**NgramBlendClassifier.get_default_config(), "diet_weight": float(sys.argv[1])}
    NgramBlendClassifier.create(config, storage, resource, context).train(training)
    loaded = NgramBlendClassifier.load(config, storage, resource, context)

    # DIET says show_balance for a PUK question, and the selector prefers roaming.
    message = Message(
        data={
            "text": "c koi mon code puk",
            "intent": {"name": "show_balance", "confidence": 0.6},
            "intent_ranking": [{"name": "show_balance", "confidence": 0.6}, {"name": "faq", "confidence": 0.4}],
            "response_selector": {
                "faq": {
                    "response": {
                        "responses": [{"text": "À l'étranger…"}],
                        "confidence": 0.55,
                        "intent_response_key": "faq/roaming",
                        "utter_action": "utter_faq/roaming",
                    },
                    "ranking": [
                        {"intent_response_key": "faq/roaming", "confidence": 0.55},
                        {"intent_response_key": "faq/code_puk", "confidence": 0.45},
                    ],
                }
            },
        }
    )
    payload_only = Message(data={"text": "", "intent": {"name": "affirm", "confidence": 1.0}})
    loaded.process([message, payload_only])
    print(
        json.dumps(
            {
                "intent": message.get("intent"),
                "ranking": message.get("intent_ranking"),
                "faq": message.get("response_selector")["faq"],
                "payload_only": payload_only.get("intent"),
            }
        )
    )


if __name__ == "__main__":
    main()
