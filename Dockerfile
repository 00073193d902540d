# policywatch: one image for every role (migrate, serve, web); the command picks the role.
# It carries Debian's chromium and the [browser] extra for sources declared `fetcher: browser`;
# `docker build --build-arg BROWSER=0 .` builds a smaller image without them.
FROM python:3.11-slim

ARG BROWSER=1

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
RUN if [ "$BROWSER" = "1" ]; then \
        apt-get update && apt-get install -y --no-install-recommends chromium \
        && rm -rf /var/lib/apt/lists/* && pip install '.[browser]'; \
    else pip install .; fi \
    && useradd --system --home-dir /var/lib/policywatch --create-home --uid 10001 policywatch

USER policywatch
EXPOSE 8000
ENTRYPOINT ["policywatch"]
CMD ["--help"]
