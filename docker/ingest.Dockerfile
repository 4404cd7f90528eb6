# syntax=docker/dockerfile:1.7
# @pw/ingest: signed webhooks and the Lightfield poller onto the bus (port 4100).
# Built from the repository root (docker/compose.yaml does this):
#   docker build -f docker/ingest.Dockerfile -t pipeline-whisperer/ingest .
# Node 24 runs the TypeScript sources as they are (type stripping): there is no compile step.
# The image is `turbo prune`'s subset of the workspace — this app, the @pw/* packages it
# depends on, their production dependencies — owned by root and run as `node`.
# docker/ingest.Dockerfile.dockerignore keeps node_modules, .git and local data out.

# The versions scripts/toolchain.sh and the catalog pin (docker/compose.test.ts checks them).
ARG NODE_VERSION=24.21.0
ARG PNPM_VERSION=12.21.0
ARG TURBO_VERSION=2.11.11

FROM node:${NODE_VERSION}-slim AS base
ARG PNPM_VERSION
ENV CI=true TURBO_TELEMETRY_DISABLED=1 NPM_CONFIG_UPDATE_NOTIFIER=false
RUN npm install --global --no-fund --no-audit "pnpm@${PNPM_VERSION}"

# The app's slice of the workspace: json/ (manifests + pruned lockfile) and full/ (sources).
FROM base AS prune
ARG PNPM_VERSION
ARG TURBO_VERSION
RUN npm install --global --no-fund --no-audit "turbo@${TURBO_VERSION}"
WORKDIR /src
COPY . .
# turbo resolves the workspace through package.json's packageManager, which the root
# manifest does not declare (engines does): supply it here, in this throwaway stage.
RUN npm pkg set "packageManager=pnpm@${PNPM_VERSION}" \
 && turbo prune @pw/ingest --docker --out-dir /out

# Production dependencies from the pruned lockfile; this layer is reused until it changes.
FROM base AS install
WORKDIR /app
COPY --from=prune /out/json/ ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --prod --store-dir /pnpm/store
COPY --from=prune /out/full/ ./

FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4100 \
    PGLITE_DIR=/home/node/.data/pglite
WORKDIR /app
COPY --from=install /app ./
USER node
WORKDIR /app/apps/ingest
EXPOSE 4100
# Exactly `pnpm start` of apps/ingest, without pnpm in the image.
CMD ["node", "--import", "@pw/telemetry/instrument", "src/main.ts"]
