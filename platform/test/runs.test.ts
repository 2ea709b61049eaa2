import { describe, expect, it } from 'vitest';
import { runsOf } from '../src/events/runs.ts';
import type { CloudEvent } from '../src/events/events.ts';
import type { EventEffect } from '../src/events/reading.ts';

const effect = (many: boolean, prepare = false): EventEffect =>
  Object.assign(async () => {}, {
    ...(many ? { many: async () => {} } : {}),
    ...(prepare ? { prepare: async () => null } : {}),
  });
const posting = effect(true);
const contract = effect(true);
const handlers: Record<string, EventEffect> = {
  'invoice.issued': posting,
  'creditnote.issued': posting,
  'subscription.renewed': contract,
  'payment.received': effect(false),
  'external.posted': effect(true, true),
};
const ev = (id: string, type: string, subject: string) => ({ id, type, subject }) as CloudEvent;
const ids = (runs: CloudEvent[][]) => runs.map((run) => run.map((e) => e.id));

describe('runsOf: the order a batch is applied in', () => {
  it('gathers events alternating between two effects into one run of each', () => {
    const events = [
      ev('r1', 'subscription.renewed', 's1'),
      ev('i1', 'invoice.issued', 'inv1'),
      ev('r2', 'subscription.renewed', 's2'),
      ev('c2', 'creditnote.issued', 'inv2'),
      ev('r3', 'subscription.renewed', 's3'),
    ];
    expect(ids(runsOf(events, handlers))).toEqual([
      ['r1', 'r2', 'r3'],
      ['i1', 'c2'],
    ]);
  });

  it('never lets an event pass an earlier one of its own subject', () => {
    const events = [
      ev('i1', 'invoice.issued', 'a'),
      ev('p1', 'payment.received', 'b'), // one at a time: holds back b's later events
      ev('i2', 'invoice.issued', 'b'),
      ev('i3', 'invoice.issued', 'c'),
      ev('r1', 'subscription.renewed', 'a'), // another effect: holds back a's later events
      ev('i4', 'invoice.issued', 'a'),
    ];
    expect(ids(runsOf(events, handlers))).toEqual([['i1', 'i3'], ['p1'], ['i2'], ['r1'], ['i4']]);
  });

  it('applies effects without `many`, with an external write, or unknown, one at a time in place', () => {
    const events = [
      ev('x1', 'external.posted', 'a'),
      ev('x2', 'external.posted', 'b'),
      ev('u1', 'unknown.type', 'c'),
      ev('i1', 'invoice.issued', 'd'),
    ];
    expect(ids(runsOf(events, handlers))).toEqual([['x1'], ['x2'], ['u1'], ['i1']]);
  });

  it('keeps every event exactly once and each subject in order, whatever the mix', () => {
    const types = Object.keys(handlers);
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 200; round += 1) {
      const events = Array.from({ length: 1 + random(40) }, (_, i) =>
        ev(`e${i}`, types[random(types.length)]!, `s${random(6)}`),
      );
      const applied = runsOf(events, handlers).flat();
      expect(applied.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
      for (const subject of new Set(events.map((e) => e.subject)))
        expect(applied.filter((e) => e.subject === subject)).toEqual(
          events.filter((e) => e.subject === subject),
        );
    }
  });
});
