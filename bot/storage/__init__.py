"""Storage of the coach's own data: SQLAlchemy models behind a small repository layer."""
