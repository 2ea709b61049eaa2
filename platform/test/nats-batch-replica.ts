import { armFaultPoint, type FaultPointName } from '../src/core/faults.ts';
import { createLogger } from '../src/core/logger.ts';
import { openDatabase } from '../src/db/db.ts';
import { startConsumer } from '../src/events/consumer.ts';
import type { CloudEvent } from '../src/events/events.ts';
import { NatsTransport } from '../src/events/nats-transport.ts';

// One replica of nats-batch.int.test.ts's consumer, in a process of its own: applies
// `thing.happened` events in batches into `<schema>.effect`, taking a few milliseconds per event
// so that batches are in hand for a while. Arguments: database URL, NATS URL, stream prefix,
// schema, replica name; C2C_FAULT_POINT arms a crash point. Prints `ready` once subscribed and runs
// until SIGTERM (or until the armed point kills it).
const [url, servers, streamPrefix, schema, name] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
armFaultPoint(process.env.C2C_FAULT_POINT as FaultPointName | undefined);
const log = createLogger({ name: `replica-${name}`, level: process.env.LOG_LEVEL ?? 'warn' });
const database = await openDatabase({ kind: 'postgres', url, poolSize: 4 });
const transport = await NatsTransport.connect({
  servers,
  log,
  streamPrefix,
  ackWaitMs: 6000, // longer than the lease: a successor must wait out the dead holder's deliveries
  discoverMs: 200,
  batchMax: 16,
  retry: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 200 },
});
const subscription = await startConsumer({
  db: database.db,
  schema,
  consumer: `${schema}.effects`,
  transport,
  log,
  leaseMs: 3000,
  handlers: {
    'thing.happened': async (trx, event: CloudEvent) => {
      await new Promise((resolve) => setTimeout(resolve, 3));
      await trx
        .withSchema(schema)
        .insertInto('effect')
        .values({
          event_id: event.id,
          subject: event.subject,
          n: (event.data as { n: number }).n,
          replica: name,
        })
        .execute();
    },
  },
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void (async () => {
    await subscription.stop();
    await transport.close();
    await database.close();
    process.exit(0);
  })();
});
