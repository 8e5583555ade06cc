"""The webhook's logging: moved to bot/logmask.py (channel-neutral, shared with the action server);
re-exported here so existing imports keep working."""
from bot.logmask import (SECRET_ENV, TEXT_FORMAT, CorrelationFilter, JsonFormatter,  # noqa: F401
                         MaskingFilter, configure, correlation, install_filters, mask, uninstall)
