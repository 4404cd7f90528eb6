# syntax=docker/dockerfile:1.7
# The one-shot migration job: applies packages/db/drizzle to DATABASE_URL and exits 0
# (`pnpm db:migrate`). Run it before any service starts or rolls out: services on PostgreSQL
# refuse to start on a schema with pending migrations. Idempotent; concurrent runs are
# serialised by an advisory lock. Built from the repository root:
#   docker build -f docker/migrate.Dockerfile -t pipeline-whisperer/migrate .

# The versions scripts/toolchain.sh and the catalog pin (docker/compose.test.ts checks them).
ARG NODE_VERSION=24.21.0
ARG PNPM_VERSION=12.21.0
ARG TURBO_VERSION=2.11.11

FROM node:${NODE_VERSION}-slim AS base
ARG PNPM_VERSION
ENV CI=true TURBO_TELEMETRY_DISABLED=1 NPM_CONFIG_UPDATE_NOTIFIER=false
RUN npm install --global --no-fund --no-audit "pnpm@${PNPM_VERSION}"

FROM base AS prune
ARG PNPM_VERSION
ARG TURBO_VERSION
RUN npm install --global --no-fund --no-audit "turbo@${TURBO_VERSION}"
WORKDIR /src
COPY . .
# turbo resolves the workspace through package.json's packageManager, which the root
# manifest does not declare (engines does): supply it here, in this throwaway stage.
RUN npm pkg set "packageManager=pnpm@${PNPM_VERSION}" \
 && turbo prune @pw/db --docker --out-dir /out

FROM base AS install
WORKDIR /app
COPY --from=prune /out/json/ ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --prod --store-dir /pnpm/store
# full/ carries packages/db/drizzle: the committed migrations and their journal.
COPY --from=prune /out/full/ ./

FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=install /app ./
USER node
WORKDIR /app/packages/db
# Exactly `pnpm --filter @pw/db migrate`, without pnpm in the image.
CMD ["node", "src/migrate-cli.ts"]
