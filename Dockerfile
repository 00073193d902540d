# policywatch: one image for every role (migrate, serve, web); the command picks the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    POLICYWATCH_DATA_DIR=/var/lib/policywatch

WORKDIR /app
COPY pyproject.toml README.md ./
COPY policywatch ./policywatch
COPY crawler ./crawler
COPY store ./store
COPY changes ./changes
COPY alerts ./alerts
COPY web ./web
COPY migrations ./migrations
RUN pip install . \
    && useradd --system --home-dir /var/lib/policywatch --create-home --uid 10001 policywatch

USER policywatch
EXPOSE 8000
ENTRYPOINT ["policywatch"]
CMD ["--help"]
