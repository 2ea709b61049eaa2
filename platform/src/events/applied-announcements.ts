import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { CloudEvent } from './events.ts';

/*
 * "This process's data now reflects these events", over core NATS (no stream: a gateway that was
 * not listening has nothing to catch up on — it empties its cache instead). In the scaled-out shape
 * each subgraph process announces what its relay published and its consumers applied (the
 * `onEventsApplied` hook); every gateway replica listens, and its entity cache evicts what the events
 * change (docs/cache.md "The scaled-out shape").
 *
 * Subject: `<prefix>.applied` (the stream prefix in lower case, `c2c.applied` by default). Two tokens,
 * so no domain stream (`<prefix>.<source>.>`) can capture it.
 *
 * Payload (JSON): `{"v":1,"from":"customer","events":[{"id","type","data"}]}`, or
 * `{"v":1,"from":"customer","reset":true}` when the announcing process reconnected to NATS (what it
 * announced while disconnected may be lost: listeners empty their caches).
 */

export interface AppliedAnnouncement {
  v: 1;
  /** The announcing subgraph. */
  from: string;
  events?: { id: string; type: string; data: unknown }[];
  reset?: true;
}

/** The subject every gateway replica listens on. */
export function appliedSubject(streamPrefix = 'C2C'): string {
  return `${streamPrefix.toLowerCase()}.applied`;
}

/** Events per message: well under NATS's default 1 MB payload limit for our events. */
const PER_MESSAGE = 100;

/** The messages announcing `events` (one per hundred). */
export function appliedMessages(from: string, events: CloudEvent[]): string[] {
  const messages: string[] = [];
  for (let i = 0; i < events.length; i += PER_MESSAGE) {
    const announcement: AppliedAnnouncement = {
      v: 1,
      from,
      events: events.slice(i, i + PER_MESSAGE).map(({ id, type, data }) => ({ id, type, data })),
    };
    messages.push(JSON.stringify(announcement));
  }
  return messages;
}

export function resetMessage(from: string): string {
  return JSON.stringify({ v: 1, from, reset: true } satisfies AppliedAnnouncement);
}

export interface AppliedListenerOptions {
  /** Comma-separated NATS URLs. */
  servers: string;
  streamPrefix?: string;
  /**
   * A queue group: one listener of the group gets each announcement (replicas sharing one store
   * need one eviction). Without it every listener gets every announcement (replicas with their own
   * store each evict).
   */
  queue?: string;
  connectionName?: string;
  log: Logger;
  /** Called with each announcement's events, one announcement at a time. */
  onEvents(events: { type: string; data: unknown }[]): Promise<void>;
  /** The connection dropped: announcements may be missed until `onReconnect`. */
  onDisconnect(): void;
  /** Connected again, or an announcer reconnected: what was announced meanwhile may be lost. */
  onReset(): Promise<void>;
}

export interface AppliedListener {
  close(): Promise<void>;
}

/** Connects (waiting for the server if it is not up yet) and listens for announcements. */
export async function listenForApplied(options: AppliedListenerOptions): Promise<AppliedListener> {
  const { log } = options;
  const nc: NatsConnection = await connect({
    servers: options.servers.split(',').map((s) => s.trim()),
    name: options.connectionName ?? 'c2c-gateway-cache',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    waitOnFirstConnect: true,
  });
  const subject = appliedSubject(options.streamPrefix);
  const subscription = nc.subscribe(subject, options.queue ? { queue: options.queue } : {});
  // Announcements and resets are handled in arrival order.
  let chain: Promise<void> = Promise.resolve();
  const then = (work: () => Promise<void>) => {
    chain = chain
      .then(work)
      .catch((error: unknown) => log.error({ err: error }, 'entity cache listener failed'));
  };
  const status = (async () => {
    for await (const event of nc.status()) {
      if (event.type === 'disconnect') {
        log.warn({ server: event.server }, 'NATS disconnected: the entity cache is paused');
        options.onDisconnect();
      } else if (event.type === 'reconnect') {
        log.info({ server: event.server }, 'NATS reconnected: the entity cache is emptied and resumed');
        then(() => options.onReset());
      }
    }
  })();
  const messages = (async () => {
    for await (const message of subscription) {
      let announcement: AppliedAnnouncement;
      try {
        announcement = message.json<AppliedAnnouncement>();
      } catch {
        log.warn({ subject }, 'ignored an announcement that is not JSON');
        continue;
      }
      if (announcement.reset) {
        log.info({ from: announcement.from }, 'a subgraph reconnected to NATS: the entity cache is emptied');
        then(() => options.onReset());
      } else if (Array.isArray(announcement.events) && announcement.events.length) {
        const events = announcement.events;
        then(() => options.onEvents(events));
      }
    }
  })();
  // The subscription is registered on the server before anything is announced to this listener.
  await nc.flush();
  log.info({ subject, queue: options.queue ?? null }, 'listening for applied events');
  return {
    close: async () => {
      if (!nc.isClosed()) await nc.drain();
      await Promise.allSettled([status, messages, chain]);
    },
  };
}
