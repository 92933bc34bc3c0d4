# The gateway and its workers: one image, the role chosen by the command (docs/operations.md, "Running in containers").
#   docker build -t order-ops-gateway .
#   docker run -e DATABASE_URL=postgres://… -p 4000:4000 order-ops-gateway                   # gateway
#   docker run -e DATABASE_URL=postgres://… -e HEALTH_PORT=4000 order-ops-gateway --role worker

# Production dependencies only: no embedded PostgreSQL, no pinned `node` package (the image is the runtime).
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/app/.data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY migrations ./migrations
COPY src ./src
# The emails' .eml outbox, labels and the ERP file when no outside system is configured; owned by the user that runs.
RUN mkdir -p /app/.data && chown node:node /app/.data
# The node image's unprivileged user (uid 1000): nothing in /app but .data is writable by it.
USER node
EXPOSE 4000
# /ready on PORT (a gateway) or HEALTH_PORT (a worker, which serves nothing else): 200 only when every check holds.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.HEALTH_PORT || process.env.PORT}/ready`).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# src/otel.ts loads nothing unless OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/operations.md, "Traces").
ENTRYPOINT ["node", "--import", "./src/otel.ts", "src/main.ts"]
CMD ["--role", "all"]
