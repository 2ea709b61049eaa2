import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUDIT_LIST_ITEMS, redactSecrets, summarizeLongLists } from '../src/graphql/audit.ts';

describe('audited variables', () => {
  it('keeps short lists item by item and stores a long one as its length and the digest of its JSON', () => {
    const events = Array.from({ length: 1000 }, (_, i) => ({ id: `e-${i}`, quantity: '1' }));
    const short = events.slice(0, AUDIT_LIST_ITEMS);
    const audited = summarizeLongLists({ input: { events, tags: short } }) as {
      input: { events: unknown; tags: unknown };
    };
    expect(audited.input.events).toEqual({
      '[list]': 1000,
      sha256: createHash('sha256').update(JSON.stringify(events)).digest('hex'),
    });
    expect(audited.input.tags).toEqual(short);
  });

  it('still redacts secrets in what it keeps', () => {
    expect(redactSecrets(summarizeLongLists({ input: { apiKey: 'k', items: [{ token: 't' }] } }))).toEqual({
      input: { apiKey: '[REDACTED]', items: [{ token: '[REDACTED]' }] },
    });
  });
});
