# syntax=docker/dockerfile:1.7
# @pw/web: the command center (Next.js, port 3000). `next build` runs when the image is
# built; the container runs `next start` and proxies /api/* to GATEWAY_URL (read at request
# time, so one image serves any gateway). Built from the repository root:
#   docker build -f docker/web.Dockerfile -t pipeline-whisperer/web .
# NEXT_PUBLIC_* values are compiled into the browser bundle: pass them as build arguments.

# The versions scripts/toolchain.sh and the catalog pin (docker/compose.test.ts checks them).
ARG NODE_VERSION=24.21.0
ARG PNPM_VERSION=12.21.0
ARG TURBO_VERSION=2.11.11

FROM node:${NODE_VERSION}-slim AS base
ARG PNPM_VERSION
ENV CI=true TURBO_TELEMETRY_DISABLED=1 NPM_CONFIG_UPDATE_NOTIFIER=false \
    NEXT_TELEMETRY_DISABLED=1
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
 && turbo prune @pw/web --docker --out-dir /out

# `next build` needs the dev dependencies (TypeScript, the React types).
FROM base AS build
WORKDIR /app
COPY --from=prune /out/json/ ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --store-dir /pnpm/store
COPY --from=prune /out/full/ ./
# apps/web/tsconfig.json extends it, and turbo prune copies packages, not root files.
COPY --from=prune /src/tsconfig.base.json ./
# Browser-side Sentry (apps/web/instrumentation-client.ts): off unless a DSN is given.
ARG NEXT_PUBLIC_SENTRY_DSN=""
ARG NEXT_PUBLIC_PW_ENVIRONMENT="production"
ENV NEXT_PUBLIC_SENTRY_DSN=${NEXT_PUBLIC_SENTRY_DSN} \
    NEXT_PUBLIC_PW_ENVIRONMENT=${NEXT_PUBLIC_PW_ENVIRONMENT}
RUN pnpm --filter @pw/web build && rm -rf apps/web/.next/cache

# What `next start` needs: production dependencies only.
FROM base AS install
WORKDIR /app
COPY --from=prune /out/json/ ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --prod --store-dir /pnpm/store

FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    PORT=3000 \
    GATEWAY_URL=http://gateway:4000
WORKDIR /app
COPY --from=install /app ./
COPY --from=prune /out/full/packages/telemetry ./packages/telemetry
COPY --from=prune /out/full/apps/web ./apps/web
COPY --from=prune /src/tsconfig.base.json ./
# next start may write its caches under .next: the one directory the app user owns.
COPY --from=build --chown=node:node /app/apps/web/.next ./apps/web/.next
USER node
WORKDIR /app/apps/web
EXPOSE 3000
# `pnpm start` of apps/web (next start -p $PORT), without pnpm; every interface.
CMD ["node", "node_modules/next/dist/bin/next", "start", "--hostname", "0.0.0.0"]
