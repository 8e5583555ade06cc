"""The operator's systems (charging, billing, ordering) seen from the assistant: a port and its
adapters. Services read and change a subscriber's telecom data only through `OperatorPort`."""
