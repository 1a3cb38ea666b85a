# scrape-gateway's image. Three stages: `build` compiles the TypeScript,
# `deps` installs the production dependencies alone, and `runtime` holds the
# compiled JS, those dependencies and the default config, runs no npm and no
# shell, and runs as a numeric non-root user.
#
#   docker build -t scrape-gateway \
#     --build-arg SCRAPE_GATEWAY_REVISION="$(git rev-parse HEAD)" \
#     --build-arg SOURCE_URL=https://example.com/your/fork .
#
# test/image.test.ts reads this file: it lays out what the runtime stage
# copies, runs its ENTRYPOINT and CMD as written and probes through them, as
# PID 1; test/kubernetes.test.ts checks that config/kubernetes/ runs the image
# as the USER below.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY plugins ./plugins
RUN npm run build

# The production dependencies in a stage of their own, so the runtime stage
# copies node_modules and never runs npm (no npm cache, no dev dependencies).
# No install scripts: no dependency of the gateway needs one.
FROM node:22-bookworm-slim AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:22-bookworm-slim AS runtime
WORKDIR /app
# package.json is read at run time: its "type": "module" makes dist/ ES
# modules, and the gateway's version (--version, the start log) is its.
COPY package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY config/scrape-gateway.yml ./config/
COPY config/examples ./config/examples

# VERSION is package.json's (test/image.test.ts checks they agree); the
# revision is the commit built, given by the build (see the top of this file)
# and read by the gateway from SCRAPE_GATEWAY_REVISION.
ARG VERSION=0.1.0
ARG SCRAPE_GATEWAY_REVISION=
ARG SOURCE_URL=
LABEL org.opencontainers.image.title="scrape-gateway" \
      org.opencontainers.image.description="A Prometheus scrape gateway: /probe performs a job's authenticated TLS scrape and relays the exposition text" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${SCRAPE_GATEWAY_REVISION}" \
      org.opencontainers.image.source="${SOURCE_URL}"
ENV NODE_ENV=production \
    SCRAPE_GATEWAY_REVISION="${SCRAPE_GATEWAY_REVISION}"

# A numeric user and group: Kubernetes' runAsNonRoot can only verify a
# numeric USER (a name such as `node` makes the kubelet refuse the pod:
# "image has non-numeric user, cannot verify user is non-root"). 65532 is the
# conventional "nonroot" id; it owns no file in the image, so the gateway
# cannot change its own code or config. config/kubernetes/deployment.yaml
# runs as the same uid and gid.
USER 65532:65532
EXPOSE 9462

# No HEALTHCHECK: the listen address is a flag (CMD below, or a Deployment's
# args), and a check written for :9462 fails for every other address.
# Kubernetes ignores HEALTHCHECK and uses its own probes (/-/healthy,
# /-/ready; config/kubernetes/deployment.yaml). With `docker run`, add one
# for your address: --health-cmd 'node -e "fetch(\"http://127.0.0.1:9462/-/healthy\").then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"'
#
# Signals: ENTRYPOINT is exec form, so node is PID 1 (no shell, no init).
# The kernel gives a PID 1 only the signals it has handlers for, so a PID 1
# without them ignores SIGTERM and is killed (SIGKILL) when the stop timeout
# runs out. src/main.ts handles SIGTERM and SIGINT (a graceful close, exit 0)
# and SIGHUP (reload); test/image.test.ts sends SIGTERM to this command as
# PID 1 of a PID namespace of its own. The gateway starts no child process,
# so there are no orphans for an init to reap: neither tini nor
# `docker run --init` is needed.
#
# A 2 MiB semi-space: relayed chunks are 16 KiB buffers whose memory is
# freed only when a scavenge collects their small JS objects, so the young
# generation's size sets how much dead body memory waits. At 32 concurrent
# 10 MB relays: peak RSS 123 MB with 2 MiB, 160 MB with 4 (npm run bench; see
# README, Performance).
ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/src/main.js"]
# An empty host listens on every IPv4 and IPv6 address.
CMD ["--config.file=/app/config/scrape-gateway.yml", "--web.listen-address=:9462"]
