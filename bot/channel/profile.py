"""Messenger Profile of the page: the "Démarrer" button and the greeting shown before it.

    python -m bot.channel.profile      # pushes PROFILE to GRAPH_API_URL (the stand-in in dev mode)

The get_started payload comes back as a postback, so it reaches Rasa as "/get_started".
"""
from __future__ import annotations

import logging

from bot.channel.app import graph_base_url
from bot.channel.graph import GraphClient, graph_client_from_settings
from bot.config import get_settings

GET_STARTED_PAYLOAD = "/get_started"
PROFILE = {
    "get_started": {"payload": GET_STARTED_PAYLOAD},
    "greeting": [
        {"locale": "default",
         "text": "Bonjour {{user_first_name}} ! Je suis l'assistant virtuel Mobilis (OPT-NC) : "
                 "offre, consommation, recharges, achats de passes. Un conseiller reste joignable."},
    ],
}


def push_profile(graph: GraphClient, profile: dict | None = None) -> dict:
    return graph.post("me/messenger_profile", profile or PROFILE)


def main() -> None:
    logging.basicConfig(level="INFO")
    settings = get_settings()
    graph = graph_client_from_settings(settings, graph_base_url(settings))
    push_profile(graph)
    print("Profil Messenger mis à jour (bouton Démarrer et message d'accueil).")


if __name__ == "__main__":
    main()
