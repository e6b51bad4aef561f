# canvas-caliper image: the worker (`run`, the default command) or the HTTPS ingest (command
# `node bin/canvas-caliper.js serve`). The worker serves /healthz on HEALTH_PORT, serve on PORT (both
# 8080 by default); HEALTHCHECK's `healthcheck` asks HEALTH_PORT and, where nothing listens, PORT, so it
# checks whichever of the two the container runs, on whatever port.
# Two stages: the build stage compiles and packs the package; the runtime stage installs that package
# with production dependencies only (the same steps test/artefact.test.ts runs in CI, where no Docker
# engine is available) and runs it as a non-root user.

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY mappers ./mappers
COPY bench ./bench
COPY samples ./samples
RUN npm run build && npm pack --ignore-scripts --pack-destination /pkg && mv /pkg/canvas-caliper-*.tgz /pkg/canvas-caliper.tgz

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /pkg/canvas-caliper.tgz /tmp/
COPY package-lock.json ./
RUN tar -xzf /tmp/canvas-caliper.tgz --strip-components=1 -C /app \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm /tmp/canvas-caliper.tgz
# The official image's unprivileged user (uid 1000); it owns nothing in /app, so the code is read-only to it.
USER node
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "bin/canvas-caliper.js", "healthcheck"]
CMD ["node", "bin/canvas-caliper.js", "run"]
