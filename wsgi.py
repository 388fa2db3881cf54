"""WSGI entry point for gunicorn (`wsgi:app`)."""

from rdap import create_app
from rdap.serve import settle_heap

app = create_app()
settle_heap()
