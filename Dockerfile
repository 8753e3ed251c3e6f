FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HUB_VAR_DIR=/var/lib/hub

WORKDIR /app
RUN useradd --create-home --uid 10001 hub && mkdir -p /var/lib/hub && chown hub /var/lib/hub

COPY pyproject.toml README.md ./
COPY hub ./hub
COPY connectors ./connectors
COPY mappings ./mappings
COPY sync ./sync
COPY sandbox ./sandbox
COPY bench ./bench
RUN pip install .

COPY manage.py ./
COPY templates ./templates
COPY static ./static
# collectstatic needs settings that import; these throwaway values never reach a container.
RUN DEBUG=true SECRET_KEY=build-only python manage.py collectstatic --noinput

USER hub
EXPOSE 8000
CMD ["gunicorn", "hub.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
