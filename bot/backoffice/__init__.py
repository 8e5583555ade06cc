"""The staff's back office: the editors' review queue and the operator's dashboard.

A process of its own (`python -m bot.backoffice`, port 8090), never the Messenger-facing webhook:
every page wants a staff login (bot/services/staff), every form a CSRF token.
"""
