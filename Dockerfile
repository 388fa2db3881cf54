# rdapd: RDAP and WHOIS directory server (deploy/compose.yaml runs a scaled-out set).
# Build:   docker build -t rdapd .
# Migrate: docker run --rm -e RDAP_DATABASE_URL=postgresql://... rdapd rdapd db upgrade
# Serve:   docker run -p 8080:8080 -e RDAP_DATABASE_URL=... -e RDAP_SECRET_KEY=... rdapd
# WHOIS:   docker run -p 43:43 -e RDAP_DATABASE_URL=... -e RDAP_BASE_URL=https://rdap.example \
#            --sysctl net.ipv4.ip_unprivileged_port_start=0 rdapd rdapd whois --bind 0.0.0.0:43
#          (a second process from the same image; the sysctl lets the non-root user bind 43)
# Migrations are a release step of their own; the server never changes the schema on boot.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY rdap ./rdap
RUN python -m venv /opt/rdapd \
    && /opt/rdapd/bin/pip install --upgrade pip \
    && /opt/rdapd/bin/pip install ".[postgres,redis]"

FROM python:3.11-slim-bookworm
ENV PATH=/opt/rdapd/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RDAP_INSTANCE_PATH=/var/lib/rdapd \
    PYTHONPATH=/app
RUN useradd --system --home-dir /var/lib/rdapd --create-home --shell /usr/sbin/nologin rdapd
WORKDIR /app
COPY --from=build /opt/rdapd /opt/rdapd
# The source tree is the project root: policies/ and migrations/ sit beside the package.
COPY rdap ./rdap
COPY policies ./policies
COPY migrations ./migrations
COPY wsgi.py ./
USER rdapd
EXPOSE 8080 43
# Liveness only: /readyz (database, replicas, Redis, schema) is for the load balancer.
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
CMD ["rdapd", "serve", "--bind", "0.0.0.0:8080"]
