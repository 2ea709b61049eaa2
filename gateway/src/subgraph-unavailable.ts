/** A failure the fetcher reports; its message never carries the subgraph's address. */
export class SubgraphUnavailable extends Error {
  constructor(
    readonly subgraph: string,
    readonly reason: 'timeout' | 'network' | 'circuit-open' | 'status',
  ) {
    super(`subgraph ${subgraph} ${reason === 'circuit-open' ? 'circuit is open' : `failed (${reason})`}`);
  }
}
