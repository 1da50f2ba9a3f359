# One image for the web server and both workers (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# torch first, pinned, so that installing the project never resolves it on its own.
# The default PyPI wheel runs on CPU and on NVIDIA GPUs. For a smaller CPU-only image:
#   docker compose build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=
RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==${TORCH_VERSION}"

WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY builder ./builder
COPY training ./training
COPY accounts ./accounts
# s3: artifacts on S3-compatible storage (STORAGE_S3_BUCKET); monitoring: Flower.
RUN pip install -e '.[s3,monitoring]'

COPY . .
RUN useradd --system --uid 1000 --home-dir /app netbuilder \
    && mkdir -p var/media var/static \
    && chown -R netbuilder:netbuilder var
USER netbuilder

EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
