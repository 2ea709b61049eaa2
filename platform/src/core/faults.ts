/**
 * Named crash points for fault tests (docs/faults.md). Off unless an entry point arms one from its
 * configuration (`C2C_FAULT_POINT`); when the armed point is reached the process kills itself with
 * SIGKILL — no `finally`, no shutdown hooks, no flush — exactly as a real crash would leave it.
 * Platform modules only call `faultPoint(name)`; they never read the environment.
 */
export const FAULT_POINTS = [
  /** A mutation's work and outbox rows are written, its transaction not yet committed. */
  'mutation.before-commit',
  /** Outbox rows are committed and read by the relay, not yet handed to the transport. */
  'outbox.after-commit',
  /** The transport has the events; the relay has not yet marked the outbox rows published. */
  'relay.after-publish',
  /** A consumer's inbox row and effect are committed; the transport has not been told it is done. */
  'consumer.after-commit',
  /** A consumer applying a batch (NATS) has applied part of it, in its transaction, not yet committed. */
  'consumer.mid-batch',
] as const;

export type FaultPointName = (typeof FAULT_POINTS)[number];

/** What reaching the armed point does; tests of the mechanism swap it for a recorder. */
export type FaultAction = (point: FaultPointName) => void;

const crash: FaultAction = () => {
  // SIGKILL cannot be caught: the kernel ends the process before this call returns.
  process.kill(process.pid, 'SIGKILL');
};

let armed: { point: FaultPointName; action: FaultAction } | null = null;

/** Arms at most one fault point for this process (null disarms); an entry point calls this once. */
export function armFaultPoint(point: FaultPointName | null | undefined, action: FaultAction = crash): void {
  armed = point ? { point, action } : null;
}

/** The armed fault point, if any (for the start banner and logs). */
export function armedFaultPoint(): FaultPointName | null {
  return armed?.point ?? null;
}

/** Marks a named point in the code; does nothing unless this very point is armed. */
export function faultPoint(point: FaultPointName): void {
  if (armed?.point === point) armed.action(point);
}
