"""Django's SQLite backend, with this process's write transactions taking turns (base.py)."""
