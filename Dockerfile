# syntax=docker/dockerfile:1
# One image for `rdev operator | shim | worker` (the default target), and the worker image
# (`--target worker`): the same plus git and the agents' CLIs.
#
#   docker build -t rdev .
#   docker build --target worker -t rdev-worker .
#
# Node runs the TypeScript sources directly (type stripping), so there is no build step: the
# image holds the production dependencies and the sources.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force

FROM ${NODE_IMAGE} AS app
ENV NODE_ENV=production
# uid/gid 10001, as the chart's securityContext says; a home for tools that want one.
RUN groupadd --gid 10001 rdev \
 && useradd --uid 10001 --gid 10001 --home-dir /home/rdev --create-home --shell /usr/sbin/nologin rdev
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY operator/src ./operator/src
COPY api-shim/src ./api-shim/src
# Project scaffolding the operator pushes into new repositories.
COPY templates ./templates
USER 10001:10001
ENTRYPOINT ["node", "bin/rdev.js"]
CMD ["--help"]

FROM app AS worker
USER root
# git clones Project repositories; the agents run as CLIs installed from npm.
ARG CLAUDE_CODE_VERSION=latest
ARG OPENCODE_VERSION=latest
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && npm install -g --no-audit --no-fund --loglevel=error \
      "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}" "opencode-ai@${OPENCODE_VERSION}" \
 && npm cache clean --force
USER 10001:10001

# The default target: the rdev image without the worker's additions.
FROM app AS rdev
