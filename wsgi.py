"""WSGI entry point for gunicorn (`wsgi:app`)."""

from rdap import create_app

app = create_app()
