# syntax=docker/dockerfile:1
# The images `make images` builds without Docker (hack/build-images.sh), for Docker users:
#
#   docker build -t rdev .                                                   # operator, shim, worker
#   docker build --target workspace-claude-code -t workspace-claude-code .  # the agents' workspaces
#   docker build --target workspace-opencode -t workspace-opencode .        # and runners
#
# Released, they are named as operator/src/images.ts says: ghcr.io/rdev-dev/rdev:<rdev version>,
# ghcr.io/rdev-dev/workspace-<agent>:<agent CLI version> (what the operator and the chart default to).
#
# Each is a minimal Debian with Node from Node's official build, running as uid/gid 10001 (as the
# chart's securityContext says). Node runs the TypeScript sources directly (type stripping), so
# there is no build step: the rdev image holds the production dependencies and the sources.
#
# Versions: the ARG defaults below repeat hack/versions.env, the one list both builds read (a unit
# test checks that they agree): bump them there and here together. To pass them explicitly, and
# the source revision the images are labelled with:
#   docker build $(sed -n 's/^\([A-Z_]*\)=/--build-arg \1=/p' hack/versions.env) \
#     --build-arg REVISION=$(git rev-parse HEAD) …
ARG NODE_VERSION=24.21.0
ARG DEBIAN_SUITE=bookworm
ARG NPM_VERSION=11.21.2
ARG CLAUDE_CODE_VERSION=2.1.332
ARG OPENCODE_VERSION=1.18.33
ARG REVISION=unknown

# Node's official image: the same binary as the npm registry's node-linux-<arch> package, which
# make images takes. Only its node and headers reach the images below.
FROM node:${NODE_VERSION}-${DEBIAN_SUITE}-slim AS node

FROM node AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force

# npm and the agents' CLIs as `npm install -g` installs them, each under /opt/<stage>/usr/local.
FROM node AS npm
ARG NPM_VERSION
RUN npm install -g --prefix /opt/npm/usr/local --no-audit --no-fund --loglevel=error "npm@${NPM_VERSION}"

FROM node AS claude-code
ARG CLAUDE_CODE_VERSION
RUN npm install -g --prefix /opt/cli/usr/local --no-audit --no-fund --loglevel=error \
      "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}"

FROM node AS opencode
ARG OPENCODE_VERSION
RUN npm install -g --prefix /opt/cli/usr/local --no-audit --no-fund --loglevel=error \
      "opencode-ai@${OPENCODE_VERSION}"

# The rdev image: CA certificates, Node, the sources and their production dependencies in /app.
FROM debian:${DEBIAN_SUITE}-slim AS app
ARG NODE_VERSION
ARG DEBIAN_SUITE
ARG REVISION
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 rdev \
 && useradd --uid 10001 --gid 10001 --home-dir /home/rdev --create-home --shell /usr/sbin/nologin rdev
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/include/node /usr/local/include/node
ENV HOME=/home/rdev NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY operator/src ./operator/src
COPY api-shim/src ./api-shim/src
# Project scaffolding the operator pushes into new repositories.
COPY templates ./templates
RUN ln -s /app/bin/rdev.js /usr/local/bin/rdev
LABEL org.opencontainers.image.title=rdev \
      org.opencontainers.image.description="rdev: the operator, the REST shim and the worker (rdev operator|shim|worker)" \
      org.opencontainers.image.licenses=Apache-2.0 \
      org.opencontainers.image.revision=${REVISION} \
      dev.rdev.node-version=${NODE_VERSION} \
      dev.rdev.debian-suite=${DEBIAN_SUITE}
USER 10001:10001
ENTRYPOINT ["node", "bin/rdev.js"]
CMD ["--help"]

# The workspace (and runner) images: git, openssh-client, CA certificates, Node, npm and one agent's
# CLI; HOME=/home/agent, /workspace, and an entrypoint that keeps the container up (the operator
# runs `sleep infinity` too; sessions and work exec into it).
FROM debian:${DEBIAN_SUITE}-slim AS workspace
ARG NODE_VERSION
ARG DEBIAN_SUITE
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 agent \
 && useradd --uid 10001 --gid 10001 --home-dir /home/agent --create-home --shell /bin/bash agent \
 && install -d -o 10001 -g 10001 /workspace
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/include/node /usr/local/include/node
COPY --from=npm /opt/npm/ /
ENV HOME=/home/agent
WORKDIR /workspace
LABEL dev.rdev.node-version=${NODE_VERSION} \
      dev.rdev.debian-suite=${DEBIAN_SUITE}
USER 10001:10001
ENTRYPOINT ["sleep", "infinity"]

FROM workspace AS workspace-claude-code
ARG CLAUDE_CODE_VERSION
ARG REVISION
COPY --from=claude-code /opt/cli/ /
LABEL org.opencontainers.image.title=workspace-claude-code \
      org.opencontainers.image.description="rdev workspace and runner image of the claude agent (@anthropic-ai/claude-code)" \
      org.opencontainers.image.version=${CLAUDE_CODE_VERSION} \
      org.opencontainers.image.revision=${REVISION} \
      dev.rdev.agent=@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}

FROM workspace AS workspace-opencode
ARG OPENCODE_VERSION
ARG REVISION
COPY --from=opencode /opt/cli/ /
LABEL org.opencontainers.image.title=workspace-opencode \
      org.opencontainers.image.description="rdev workspace and runner image of the opencode agent (opencode-ai)" \
      org.opencontainers.image.version=${OPENCODE_VERSION} \
      org.opencontainers.image.revision=${REVISION} \
      dev.rdev.agent=opencode-ai@${OPENCODE_VERSION}

# The default target, last: the rdev image.
FROM app AS rdev
