# The Rasa server of the ITB parents' assistant: one replica per container, its model and the sentence
# encoder's weights inside the image, so a container starts without fetching anything.
#
#   docker build -f deploy/docker/rasa.Dockerfile -t itb-rasa:<git sha> .     (from the repository root)
#
# Settings come from the environment at run time: deploy/itb.env.example, deploy/k8s/configmap.yaml.
ARG PYTHON_IMAGE=python:3.10.19-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2
# The same path in both stages: the venv's scripts and the editable install name their paths.
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app

# As `make install`: the lock's own pip, setuptools and wheel first, then exactly the lock, every hash
# checked, so the image holds what CI tested. The lock's two sdists are pure Python: no compiler needed.
COPY requirements.lock ./
RUN awk '/^[^ #]/ { keep = /^(pip|setuptools|wheel)==/ } keep' requirements.lock >/tmp/bootstrap.lock \
 && pip install --no-cache-dir --require-hashes --no-deps -r /tmp/bootstrap.lock \
 && pip install --no-cache-dir --require-hashes --no-deps --no-build-isolation -r requirements.lock \
 && rm /tmp/bootstrap.lock

# The project, editable as in `make install`: paths.py finds content/ and domain.yml beside itself, so the
# code has to stay in /app rather than be copied into site-packages.
COPY pyproject.toml README.md paths.py ./
COPY actions/ actions/
COPY connectors/ connectors/
COPY content_library/ content_library/
COPY conversations/ conversations/
COPY harness/ harness/
COPY nlu/ nlu/
COPY rasa_patches/ rasa_patches/
COPY urgency/ urgency/
# Then the encoder weights and their ONNX graphs, into /opt/venv/share/itb-assistant: the one download
# outside the lock, refused unless its sha256 is the one in nlu/embedding_model.txt.
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e . \
 && python -m nlu.minilm

# Trained here rather than copied from the build context: the model then always matches this commit's data,
# content and packages, whoever builds the image, and a stale models/ on a laptop can't slip in. It costs
# about 40 s of build time. Checked as `make run` checks it, so a bad model fails the build, not a pod.
COPY config.yml domain.yml credentials.yml ./
COPY content/ content/
COPY data/ data/
COPY scripts/check_model.py scripts/
RUN rasa train --fixed-model-name itb-assistant --out models \
 && python scripts/check_model.py models/itb-assistant.tar.gz \
 && rm -rf .rasa data


FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/home/itb \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SANIC_WORKERS=1
# A fixed uid, so Kubernetes' runAsNonRoot can check it and volumes can be given to it.
RUN groupadd --system --gid 10001 itb \
 && useradd --system --uid 10001 --gid itb --home-dir /home/itb --create-home --shell /usr/sbin/nologin itb
COPY --from=build /opt/venv /opt/venv
# Owned by root and read-only to the server: it writes only to /tmp (the unpacked model) and $HOME.
COPY --from=build /app /app
COPY deploy/endpoints.cluster.yml /app/deploy/
COPY --chmod=0555 deploy/docker/rasa-entrypoint.sh /usr/local/bin/rasa-entrypoint
WORKDIR /app
USER 10001:10001
# Telemetry off in Rasa's own config too, written now so that a read-only root filesystem needs no write.
RUN rasa telemetry disable

EXPOSE 5005
# `/` answers once the model is loaded (about 20 s); python, because the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/', timeout=4)"]
ENTRYPOINT ["/usr/local/bin/rasa-entrypoint"]
