# syntax=docker/dockerfile:1
# modelship operator image.
#   docker build -t modelship:dev --build-arg VERSION=$(node -p 'require("./package.json").version') .
# Runs as uid 65532 on a read-only root filesystem: nothing is written at runtime, npm is not in
# the final image, and the process is plain `node dist/main.js` (it handles SIGTERM itself), one
# bundled file with no node_modules beside it.
# hack/check-dockerfile.sh replays these steps outside a container where no engine is available.

# The base image, by tag. Pin it by digest for a build that is reproducible and changes only by a
# reviewed commit:  ARG NODE_IMAGE=node:24-bookworm-slim@sha256:<digest of the multi-arch index>
# (`docker buildx imagetools inspect node:24-bookworm-slim` prints it). Not pinned here yet: the
# machines this repository is developed on reach no container registry, and a digest is never
# written down unverified (docs/security.md#supply-chain). Meanwhile the Dagger pipeline resolves
# the tag once per run and builds every stage from that digest, which the base.name label records.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: bundle the operator and its dependencies into dist/main.js (hack/build.ts) ------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no package's install script runs in the build (the bundler and its native
# binding need none); what is installed is exactly the lockfile's tarballs.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY hack/build.ts ./hack/build.ts
COPY operator/src ./operator/src
RUN npm run build

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
# Files stay root-owned and read-only to the runtime user. dist/main.js carries its dependencies:
# no node_modules in the image.
COPY package.json ./
COPY --from=build /src/dist/main.js ./dist/main.js
COPY crds ./crds
USER 65532:65532
# ENTRYPOINT, not CMD: the chart passes flags as `args`, which replace CMD but follow ENTRYPOINT.
# The node flags match NODE_FLAGS in hack/build.ts.
ENTRYPOINT ["node", "--optimize-for-size", "dist/main.js"]
