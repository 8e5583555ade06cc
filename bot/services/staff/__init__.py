"""The back office's staff: accounts, roles, passwords (bot/db/staff.py)."""
