# The project's services (gateways, consumers, control plane, console, load generator) in one image.
# Kafka, Prometheus, Grafana and moto come from their official images (docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ECOMCTL_STATE_DIR=/state
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ingest ingest
COPY collectors collectors
COPY policies policies
COPY controlplane controlplane
COPY dashboards dashboards
RUN pip install --no-cache-dir . && mkdir -p /state && useradd --system --home /state ecomctl \
    && chown ecomctl /state
USER ecomctl
CMD ["ecomctl", "--help"]
