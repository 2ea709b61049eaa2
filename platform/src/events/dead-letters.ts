import { sql } from 'kysely';
import type { Logger } from 'pino';
import { applyOnce } from './consumer.ts';
import type { EventEffect } from './reading.ts';
import type { AnyDb } from '../db/db.ts';
import type { CloudEvent } from './events.ts';
import { DomainError } from '../core/errors.ts';

/** A dead letter as operators see it. */
export interface DeadLetter {
  id: number;
  consumer: string;
  eventId: string;
  eventType: string;
  subject: string;
  correlationId: string | null;
  error: string;
  attempts: number;
  deadAt: Date;
  replayedAt: Date | null;
}

interface DeadLetterRow {
  id: number;
  consumer: string;
  event_id: string;
  event_type: string;
  subject: string;
  event: CloudEvent | string;
  error: string;
  attempts: number;
  dead_at: Date;
  replayed_at: Date | null;
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  const event = typeof row.event === 'string' ? (JSON.parse(row.event) as CloudEvent) : row.event;
  return {
    id: Number(row.id),
    consumer: row.consumer,
    eventId: row.event_id,
    eventType: row.event_type,
    subject: row.subject,
    correlationId: event.correlationid ?? null,
    error: row.error,
    attempts: row.attempts,
    deadAt: row.dead_at,
    replayedAt: row.replayed_at,
  };
}

/** Dead letters of one subgraph, newest first; replayed ones only when asked. */
export async function listDeadLetters(
  db: AnyDb,
  schema: string,
  options: { includeReplayed?: boolean; limit?: number } = {},
): Promise<DeadLetter[]> {
  let query = db.withSchema(schema).selectFrom('dead_letter').selectAll();
  if (!options.includeReplayed) query = query.where('replayed_at', 'is', null);
  const rows = (await query
    .orderBy('dead_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit ?? 100)
    .execute()) as DeadLetterRow[];
  return rows.map(toDeadLetter);
}

/** Most dead letters one replay call applies; `all` takes the oldest this many. */
export const MAX_REPLAY = 100;

export interface ReplayOutcome {
  id: number;
  ok: boolean;
  /** True when the effect had already been applied (an earlier replay or a late delivery). */
  alreadyApplied: boolean;
  error: string | null;
}

export interface ReplayOptions {
  db: AnyDb;
  schema: string;
  /** Durable consumer name → event type → effect: the same handlers the consumers run. */
  consumers: Record<string, Record<string, EventEffect>>;
  log: Logger;
  afterCommit?: () => void;
  /** As ConsumerOptions.onApplied. */
  onApplied?: (event: CloudEvent) => void;
}

/**
 * Applies dead-lettered events again through the consumer's own handler and inbox, so the effect
 * happens exactly once however often replay is pressed. `ids` null replays every pending one.
 */
export async function replayDeadLetters(
  options: ReplayOptions,
  ids: number[] | null,
): Promise<ReplayOutcome[]> {
  const { db, schema, log } = options;
  let query = db.withSchema(schema).selectFrom('dead_letter').selectAll().orderBy('id');
  query =
    ids === null ? query.where('replayed_at', 'is', null) : query.where('id', 'in', ids.length ? ids : [-1]);
  const rows = (await query.execute()) as DeadLetterRow[];
  const outcomes: ReplayOutcome[] = [];
  for (const row of rows) {
    const event = typeof row.event === 'string' ? (JSON.parse(row.event) as CloudEvent) : row.event;
    const handlers = options.consumers[row.consumer];
    if (!handlers) {
      outcomes.push({
        id: row.id,
        ok: false,
        alreadyApplied: false,
        error: `no consumer ${row.consumer} in ${schema}`,
      });
      continue;
    }
    try {
      const applied = await applyOnce(
        {
          db,
          schema,
          consumer: row.consumer,
          handlers,
          log,
          ...(options.afterCommit ? { afterCommit: options.afterCommit } : {}),
          ...(options.onApplied ? { onApplied: options.onApplied } : {}),
        },
        event,
      );
      await db
        .withSchema(schema)
        .updateTable('dead_letter')
        .set({ replayed_at: sql`coalesce(replayed_at, now())` })
        .where('id', '=', row.id)
        .execute();
      log.info(
        {
          deadLetterId: row.id,
          consumer: row.consumer,
          eventId: event.id,
          correlationId: event.correlationid,
          applied,
        },
        'dead letter replayed',
      );
      outcomes.push({ id: Number(row.id), ok: true, alreadyApplied: !applied, error: null });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await db
        .withSchema(schema)
        .updateTable('dead_letter')
        .set({ error: message, attempts: sql`attempts + 1` })
        .where('id', '=', row.id)
        .execute();
      log.warn(
        { deadLetterId: row.id, consumer: row.consumer, eventId: event.id, error: message },
        'dead letter replay failed',
      );
      outcomes.push({ id: Number(row.id), ok: false, alreadyApplied: false, error: message });
    }
  }
  const unknown = (ids ?? []).filter((id) => !rows.some((row) => Number(row.id) === id));
  for (const id of unknown)
    outcomes.push({ id, ok: false, alreadyApplied: false, error: `no dead letter ${id}` });
  return outcomes;
}

export interface DeadLetterGraphQLOptions extends ReplayOptions {
  /** Root field names, e.g. `crmDeadLetters` and `replayCrmDeadLetters`. */
  queryField: string;
  mutationField: string;
}

const NUMERIC_ID = /^[1-9][0-9]{0,17}$/;

/**
 * Query and mutation resolvers for a subgraph's dead letters (the SDL lives in its schema.graphql).
 * A replay selection is `ids` (1–100) or `all: true`, never both.
 */
export function deadLetterResolvers(options: DeadLetterGraphQLOptions) {
  return {
    Query: {
      [options.queryField]: async (
        _: unknown,
        args: { includeReplayed?: boolean | null; first?: number | null },
      ) => {
        const first = args.first ?? 50;
        if (!Number.isInteger(first) || first < 1 || first > 100) {
          throw new DomainError(
            'INVALID_PAGE_SIZE',
            `first must be between 1 and 100, got ${first}`,
            'first',
          );
        }
        const letters = await listDeadLetters(options.db, options.schema, {
          includeReplayed: args.includeReplayed ?? false,
          limit: first,
        });
        return letters.map((letter) => ({ ...letter, id: String(letter.id) }));
      },
    },
    Mutation: {
      [options.mutationField]: async (_: unknown, args: { ids?: string[] | null; all?: boolean | null }) => {
        const ids = args.ids ?? null;
        const all = args.all ?? false;
        if ((ids === null) === !all || (ids !== null && (ids.length === 0 || ids.length > MAX_REPLAY))) {
          return {
            results: [],
            userErrors: [
              {
                code: 'INVALID_REPLAY_SELECTION',
                field: ids === null ? 'all' : 'ids',
                message: `give 1–${MAX_REPLAY} ids, or all: true, not both`,
              },
            ],
          };
        }
        const malformed = (ids ?? []).filter((id) => !NUMERIC_ID.test(id));
        const numeric = (ids ?? []).filter((id) => NUMERIC_ID.test(id)).map(Number);
        const outcomes = await replayDeadLetters(options, all ? null : numeric);
        return {
          results: [
            ...outcomes.map((o) => ({ ...o, id: String(o.id) })),
            ...malformed.map((id) => ({
              id,
              ok: false,
              alreadyApplied: false,
              error: `no dead letter ${id}`,
            })),
          ],
          userErrors: [],
        };
      },
    },
  };
}
