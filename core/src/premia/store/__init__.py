"""Storage: SQLAlchemy 2 tables, exact column types, engine set-up and migrations."""
