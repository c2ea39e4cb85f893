# Production image: build with dev dependencies, run with production ones only (no Prisma CLI, no embedded
# PostgreSQL, no build tools). The same steps run in test/production.spec.ts, so the two cannot drift.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build

FROM node:22-bookworm-slim
# The default checkpoint directory (.data/ under the root-owned /app) is not writable by the node user.
ENV NODE_ENV=production AUDIT_CHECKPOINT_DIR=/audit-checkpoints
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
# --legacy-peer-deps: @prisma/client names the Prisma CLI (and TypeScript) as optional peers, which npm would
# otherwise install even with --omit=dev (~200 MB the service never loads).
RUN npm ci --omit=dev --legacy-peer-deps --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /audit-checkpoints && chown node:node /audit-checkpoints
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Migrations are a separate step with the owner role: `node dist/cli.js migrate` (compose: the migrate service).
CMD ["node", "--disable-warning=FSTWRN004", "dist/main.js"]
