# Example image: docker build -t kyr-bot . && docker run --env-file .env -v kyr-data:/data kyr-bot
# For several replicas, run it in webhook mode against PostgreSQL (see README, "Deploying").
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data \
    CONTENT_DIR=/app/content LOCALES_DIR=/app/locales
WORKDIR /app
# Dependencies exactly as locked, each file checked against its hash (setuptools, the build
# tool, included); then the bot itself, built with that setuptools and nothing downloaded.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --no-deps --no-build-isolation --no-index .
COPY content ./content
COPY locales ./locales
# The data folder (database, session secret) is private to the bot user: 0700, files 0600.
RUN useradd --system --home /data kyr && mkdir -p /data && chown kyr /data && chmod 0700 /data
USER kyr
VOLUME ["/data"]
EXPOSE 8080
# Refuse to start on broken content, then serve; SIGHUP reloads content, SIGTERM stops cleanly.
CMD ["sh", "-c", "kyr-bot check && exec kyr-bot run"]
