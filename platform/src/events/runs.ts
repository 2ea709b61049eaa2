import type { CloudEvent } from './events.ts';
import type { EventEffect } from './reading.ts';

/**
 * The order a batch's events are applied in, as runs: an event whose effect applies many at once
 * (`many`, and no external write) is run with the other events of that effect further on in the
 * batch, unless one of them would pass an earlier event of its own subject — order is kept per
 * subject, the only order the transports promise (events of different subjects may be in different
 * partitions, applied in any order relative to each other). A consumer whose events alternate
 * between two effects (the ERP's `subscription.renewed` and `invoice.issued`) gets two runs, not
 * one per event. Every other event is a run of its own, in its place.
 */
export function runsOf(events: readonly CloudEvent[], handlers: Record<string, EventEffect>): CloudEvent[][] {
  const runs: CloudEvent[][] = [];
  let pending = events;
  while (pending.length > 0) {
    const effect = handlers[pending[0]!.type];
    if (!effect?.many || effect.prepare) {
      runs.push([pending[0]!]);
      pending = pending.slice(1);
      continue;
    }
    const run: CloudEvent[] = [];
    const rest: CloudEvent[] = [];
    // Subjects with an event left behind: their later events wait too.
    const held = new Set<string>();
    for (const event of pending) {
      if (handlers[event.type] === effect && !held.has(event.subject)) run.push(event);
      else {
        held.add(event.subject);
        rest.push(event);
      }
    }
    runs.push(run);
    pending = rest;
  }
  return runs;
}
