# syntax=docker/dockerfile:1
# Skein image: the API server, the worker and the built web app in one image.
#   docker build -t skein .
#   docker run skein                                  # `skein all`: server + worker in one process
#   docker run skein node server/bin/skein.mjs worker # or `server`, `migrate`
# The server runs from its TypeScript source through tsx (a runtime dependency of server/).

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: install everything, build web/dist ---------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    npm_config_update_notifier=false
# Manifests first so the dependency layer is cached across source changes.
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY web/package.json web/
COPY e2e/package.json e2e/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- deps: production dependencies only ----------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY web/package.json web/
COPY e2e/package.json e2e/
# Only the server workspace's dependencies (the web app is served pre-built from web/dist).
# (server/node_modules holds the few packages npm could not hoist; make sure it exists.)
RUN npm ci --omit=dev --workspace server --include-workspace-root --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p server/node_modules

# ---- runtime -------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    npm_config_update_notifier=false \
    PORT=4000
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/server/node_modules ./server/node_modules
COPY package.json package-lock.json tsconfig.base.json ./
COPY server ./server
COPY workflows ./workflows
COPY --from=build /app/web/package.json ./web/package.json
COPY --from=build /app/web/dist ./web/dist
RUN mkdir -p /app/.skein && chown node:node /app/.skein
USER node
EXPOSE 4000
CMD ["node", "server/bin/skein.mjs", "all"]
