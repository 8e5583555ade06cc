"""Development tools: the Messenger simulator page and the stand-in Graph API."""
