import type { Logger } from 'pino';
import { DatabaseTransport } from './database-transport.ts';
import type { AnyDb } from '../db/db.ts';
import { NatsTransport } from './nats-transport.ts';
import type { Signals } from '../core/signals.ts';
import type { EventTransport, RetryPolicy } from './transport.ts';

export interface CreateTransportOptions {
  /** NATS URLs (comma-separated): the scaled-out backbone; without it, the embedded one in the database. */
  natsUrl?: string | undefined;
  db: AnyDb;
  signals: Signals;
  log: Logger;
  retry?: RetryPolicy | undefined;
  /** Stream name prefix on NATS (default `C2C`). */
  streamPrefix?: string | undefined;
  connectionName?: string | undefined;
  /** NATS: how long a delivery may stay unacknowledged before it is redelivered (default 30 s). */
  ackWaitMs?: number | undefined;
  /** NATS: most events a consumer applies in one transaction (default 64; 1 = no batches). */
  batchMax?: number | undefined;
  /** NATS: replicas of each stream (1 on a single server; 3 on a three-node cluster). */
  streamReplicas?: number | undefined;
  /** NATS: announce the events this subgraph applied or published, for the gateways' entity cache. */
  announceAs?: string | undefined;
}

/** The event backbone a process was configured with: NATS JetStream when `natsUrl` is set, else the database. */
export async function createTransport(options: CreateTransportOptions): Promise<EventTransport> {
  const retry = options.retry ? { retry: options.retry } : {};
  if (options.natsUrl) {
    return NatsTransport.connect({
      servers: options.natsUrl,
      log: options.log,
      ...retry,
      ...(options.streamPrefix ? { streamPrefix: options.streamPrefix } : {}),
      ...(options.connectionName ? { connectionName: options.connectionName } : {}),
      ...(options.ackWaitMs ? { ackWaitMs: options.ackWaitMs } : {}),
      ...(options.streamReplicas ? { replicas: options.streamReplicas } : {}),
      ...(options.batchMax ? { batchMax: options.batchMax } : {}),
      ...(options.announceAs ? { announceAs: options.announceAs } : {}),
    });
  }
  return new DatabaseTransport({ db: options.db, signals: options.signals, log: options.log, ...retry });
}
