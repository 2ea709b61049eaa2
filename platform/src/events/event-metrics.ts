import { sql } from 'kysely';
import type { AnyDb } from '../db/db.ts';
import type { MetricsSink } from '../observability/metrics.ts';
import type { EventTransport } from './transport.ts';

/**
 * The platform's own business gauges of a subgraph: its outbox backlog and the age of its oldest
 * unpublished event, how far each consumer of its events is behind (from the transport), and its
 * consumers' unreplayed dead letters.
 */
export function registerEventMetrics(
  metrics: MetricsSink,
  options: { db: AnyDb; schema: string; transport: EventTransport; consumers: string[] },
): void {
  const { db, schema, transport, consumers } = options;
  const outbox = metrics.cached(async () => {
    const { rows } = await sql<{ backlog: number | string; oldest_age: number | string | null }>`
      select count(*) as backlog, extract(epoch from now() - min(time)) as oldest_age
      from ${sql.table(`${schema}.outbox`)} where published_at is null`.execute(db);
    const row = rows[0];
    return { backlog: Number(row?.backlog ?? 0), oldestAge: Math.max(0, Number(row?.oldest_age ?? 0)) };
  });
  metrics.scrapedGauge({
    name: 'c2c_outbox_backlog_events',
    help: 'Events committed to this subgraph’s outbox and not yet published by the relay',
    read: async () => [{ value: (await outbox()).backlog }],
  });
  metrics.scrapedGauge({
    name: 'c2c_outbox_oldest_age_seconds',
    help: 'Age of the oldest unpublished outbox event (0 when the outbox is drained)',
    read: async () => [{ value: (await outbox()).oldestAge }],
  });
  if (transport.lag) {
    const lag = transport.lag.bind(transport);
    metrics.scrapedGauge({
      name: 'c2c_consumer_lag_events',
      help: 'Events this subgraph published that a consumer has not yet acknowledged (pending, retrying or in flight), by consumer',
      labelNames: ['source', 'consumer'],
      read: async () =>
        (await lag(schema)).map((row) => ({
          labels: { source: schema, consumer: row.consumer },
          value: row.pending,
        })),
    });
  }
  metrics.scrapedGauge({
    name: 'c2c_dead_letters',
    help: 'Dead letters of this subgraph’s consumers not yet replayed, by consumer',
    labelNames: ['consumer'],
    read: async () => {
      const { rows } = await sql<{ consumer: string; count: number | string }>`
        select consumer, count(*) as count from ${sql.table(`${schema}.dead_letter`)}
        where replayed_at is null group by consumer`.execute(db);
      const counts = new Map(consumers.map((c) => [c, 0]));
      for (const row of rows) counts.set(row.consumer, Number(row.count));
      return [...counts].map(([consumer, value]) => ({ labels: { consumer }, value }));
    },
  });
}
