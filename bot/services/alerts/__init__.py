"""Opt-in alerts on a subscriber's line: what they asked for, crossings detected through the
operator port, and when and how each may be sent (Messenger's 24-hour window, utility templates)."""
