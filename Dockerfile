# syntax=docker/dockerfile:1
# modelship operator image.
#   docker build -t modelship:dev --build-arg VERSION=$(node -p 'require("./package.json").version') .
# Runs as uid 65532 on a read-only root filesystem: nothing is written at runtime, npm is not in
# the final image, and the process is plain `node dist/main.js` (it handles SIGTERM itself).
# hack/check-dockerfile.sh replays these steps outside a container where no engine is available.

ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: compile TypeScript to dist/ ----------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY operator/src ./operator/src
RUN npm run build

# --- deps: production node_modules only ----------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime -------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="modelship" \
      org.opencontainers.image.description="Kubernetes operator for the whole lifecycle of a served ML model: deploy, scale, canary, probe, promote, roll back." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# The package managers are not needed at runtime; removing them shrinks what an attacker could use.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg
ENV NODE_ENV=production
WORKDIR /app
# Files stay root-owned and read-only to the runtime user.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY crds ./crds
USER 65532:65532
CMD ["node", "dist/main.js"]
