import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayClient } from '../cli/lib/gateway-client.ts';

// A stand-in gateway over real HTTP: refuses with 429 (Retry-After) while `refusals` lasts.
let refusals = 0;
let served = 0;
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (refusals > 0) {
        refusals -= 1;
        res.statusCode = 429;
        res.setHeader('retry-after', '2');
        res.end(
          JSON.stringify({
            errors: [{ message: 'rate limit exceeded: too much query cost in too little time' }],
          }),
        );
        return;
      }
      served += 1;
      res.end(JSON.stringify({ data: { ok: served } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("the CLI's gateway client on a rate limit (429)", () => {
  it('waits the Retry-After and sends the request again, saying so', async () => {
    refusals = 2;
    const notes: string[] = [];
    const slept: number[] = [];
    const gql = gatewayClient(url, undefined, {
      note: (line) => notes.push(line),
      sleep: async (ms) => void slept.push(ms),
    });
    const data = await gql<{ ok: number }>('{ ok }', {});
    expect(data.ok).toBe(served);
    expect(slept).toEqual([2000, 2000]);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/rate limit .* waiting 2 s/);
  });

  it('gives up with a clear error once its patience is spent', async () => {
    refusals = 10;
    const gql = gatewayClient(url, undefined, { patienceMs: 3000, note: () => {}, sleep: async () => {} });
    await expect(gql('{ ok }', {})).rejects.toThrow(
      /rate limit exceeded.*429; gave up after waiting 2 s.*RATE_LIMIT_COST_PER_MINUTE/,
    );
    refusals = 0;
  });
});
