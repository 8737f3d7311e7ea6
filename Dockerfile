# finagency: one image for every role. `docker run IMAGE serve` (all-in-one, SQLite in /data),
# or `web`, `worker`, `scheduler` against PostgreSQL (deploy/compose.yaml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FINAGENCY_HOST=0.0.0.0 \
    FINAGENCY_PORT=8000 \
    FINAGENCY_DATA_DIR=/data \
    FINAGENCY_LOG_JSON=true

# pg_dump/pg_restore for `finagency backup|restore` on PostgreSQL; version 15 (Debian
# bookworm), so the server must be PostgreSQL 15 or older (compose.yaml runs 15).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 finagency \
    && useradd --system --uid 10001 --gid finagency --home-dir /app --shell /usr/sbin/nologin finagency

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
# Editable on purpose: the Alembic migrations live next to src/ (not inside the package), and
# finagency finds them relative to its source tree.
RUN pip install -e . \
    && mkdir -p /data /backups \
    && chown finagency:finagency /data /backups

USER finagency
VOLUME ["/data"]
EXPOSE 8000

# The default command serves HTTP; compose overrides the check for worker and scheduler.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "finagency.ops.probe", "web"]

ENTRYPOINT ["finagency"]
CMD ["serve"]
