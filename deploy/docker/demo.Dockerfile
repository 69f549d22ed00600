# The demo hospital page with the chat widget (scripts/serve_demo.py): a stand-in for the hospital's own
# page, and the place to get the built widget (/itb-chat.js) to put on it.
#
#   docker build -f deploy/docker/demo.Dockerfile -t itb-demo:<git sha> .     (from the repository root)
#
# RASA_PUBLIC_URL is where browsers reach the Rasa server (the balancer's public address); that page's
# origin must then be in the Rasa replicas' ALLOWED_ORIGINS.
ARG PYTHON_IMAGE=python:3.10.19-slim-bookworm
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# The notice and phone numbers the widget shows even with no server, from content/ (as `make widget`).
FROM ${PYTHON_IMAGE} AS content
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY requirements.lock ./
# content_library needs only PyYAML: that one pin from the lock, with its hashes, not the whole lock.
RUN awk '/^[^ #]/ { keep = /^pyyaml==/ } keep' requirements.lock >/tmp/yaml.lock \
 && pip install --no-cache-dir --require-hashes --no-deps -r /tmp/yaml.lock
COPY paths.py ./
COPY content_library/ content_library/
COPY content/ content/
COPY scripts/export_widget_content.py scripts/
# As a module from /app: the project is not installed in this stage, so scripts/ must not be sys.path[0].
RUN python -m scripts.export_widget_content /out/content.json

FROM ${NODE_IMAGE} AS widget
WORKDIR /widget
COPY widget/package.json widget/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY widget/build.mjs ./
COPY widget/src/ src/
COPY --from=content /out/content.json build/content.json
RUN npm run --silent build

# The page server is the standard library only: no packages at all.
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RASA_PUBLIC_URL=http://localhost:8080
RUN groupadd --system --gid 10001 itb \
 && useradd --system --uid 10001 --gid itb --no-create-home --shell /usr/sbin/nologin itb
WORKDIR /app
COPY paths.py ./
COPY scripts/serve_demo.py scripts/
COPY widget/demo/ widget/demo/
COPY --from=widget /widget/dist/ widget/dist/
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/', timeout=4)"]
# A shell only to read RASA_PUBLIC_URL at start; exec hands the process over, so signals reach it.
CMD ["sh", "-c", "exec python -m scripts.serve_demo --host 0.0.0.0 --port 8080 --rasa-url \"$RASA_PUBLIC_URL\""]
