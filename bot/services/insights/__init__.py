"""What the assistant did with each message: the editors' review queue, the answers' ratings and
the operator's dashboard figures (bot/db/insights.py)."""
