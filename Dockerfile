# One image for every process of the scaled-out shape; the Deployment picks the entry point
# (node dist/gateway.js, dist/customer.js, dist/subscription.js, dist/finance.js, dist/c2c.js).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY schema/package.json schema/
COPY platform/package.json platform/
COPY gateway/package.json gateway/
COPY ops/package.json ops/
COPY apps/package.json apps/
COPY cli/package.json cli/
COPY bench/package.json bench/
COPY subgraphs/customer/package.json subgraphs/customer/
COPY subgraphs/subscription/package.json subgraphs/subscription/
COPY subgraphs/finance/package.json subgraphs/finance/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# Data files the processes read at run time, next to dist/ as in the repository.
COPY --from=build /app/platform/migrations platform/migrations
COPY --from=build /app/subgraphs/customer/migrations subgraphs/customer/migrations
COPY --from=build /app/subgraphs/customer/schema.graphql subgraphs/customer/schema.graphql
COPY --from=build /app/subgraphs/subscription/migrations subgraphs/subscription/migrations
COPY --from=build /app/subgraphs/subscription/schema.graphql subgraphs/subscription/schema.graphql
COPY --from=build /app/subgraphs/finance/migrations subgraphs/finance/migrations
COPY --from=build /app/subgraphs/finance/schema.graphql subgraphs/finance/schema.graphql
COPY --from=build /app/schema schema
COPY --from=build /app/ops/src/console ops/src/console
USER node
EXPOSE 4000
CMD ["node", "dist/gateway.js"]
