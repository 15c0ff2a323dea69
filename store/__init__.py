"""The store: tables, the engine and sessions, migrations, and the operations that must hold
invariants in one transaction. It is the only package that opens a database session."""
