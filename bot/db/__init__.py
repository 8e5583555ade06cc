"""Data layer: SQLAlchemy 2.0 models, engine and sessions."""
