/** Who asked: the idempotency scope and the correlation id every resulting event carries. */
export interface Caller {
  caller: string;
  correlationId: string;
}
