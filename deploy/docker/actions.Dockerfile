# The action server of the ITB parents' assistant (rasa-sdk): it looks up the vetted answers in content/.
#
#   docker build -f deploy/docker/actions.Dockerfile -t itb-actions:<git sha> .     (from the repository root)
#
# It runs any action for any conversation a request describes: only the Rasa replicas may reach it
# (compose: the internal network; Kubernetes: deploy/k8s/networkpolicy.yaml).
ARG PYTHON_IMAGE=python:3.10.19-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
# The whole lock, as `make install` and the Rasa image install it: one set of versions everywhere, which
# is what CI tested, at the price of a large image for a small server.
COPY requirements.lock ./
RUN awk '/^[^ #]/ { keep = /^(pip|setuptools|wheel)==/ } keep' requirements.lock >/tmp/bootstrap.lock \
 && pip install --no-cache-dir --require-hashes --no-deps -r /tmp/bootstrap.lock \
 && pip install --no-cache-dir --require-hashes --no-deps --no-build-isolation -r requirements.lock \
 && rm /tmp/bootstrap.lock
# Editable, as in `make install`: paths.py finds content/ beside itself.
COPY pyproject.toml README.md paths.py ./
COPY actions/ actions/
COPY connectors/ connectors/
COPY content_library/ content_library/
COPY conversations/ conversations/
COPY harness/ harness/
COPY nlu/ nlu/
COPY rasa_patches/ rasa_patches/
COPY urgency/ urgency/
COPY content/ content/
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e .


FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/home/itb \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 itb \
 && useradd --system --uid 10001 --gid itb --home-dir /home/itb --create-home --shell /usr/sbin/nologin itb
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 5055
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5055/health', timeout=4)"]
# On every interface of the container (rasa-sdk's default); the network around it decides who may call.
ENTRYPOINT ["rasa_sdk", "--actions", "actions", "--port", "5055"]
