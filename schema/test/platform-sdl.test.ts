import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { platformNames, platformSdl, withPlatformSdl } from '@c2c/platform/subgraph/sdl';
import { subgraphsOf } from '@c2c/schema/subgraphs';

describe('the platform-owned SDL (dead letters, replay, audit log)', () => {
  it.each(subgraphsOf().map((s) => [s.name, s] as const))(
    '%s serves the current declaration (npm run compose writes it)',
    (_, subgraph) => {
      const sdl = readFileSync(subgraph.schemaFile, 'utf8');
      const expected = withPlatformSdl(sdl, platformNames(subgraph.name, subgraph.system));
      expect(sdl === expected, `${subgraph.schemaFile} is stale: run npm run compose`).toBe(true);
    },
  );

  it('derives every name from the system label', () => {
    expect(platformNames('customer', 'CRM')).toMatchObject({
      Type: 'Crm',
      prose: 'the CRM',
      deadLettersField: 'crmDeadLetters',
      replayField: 'replayCrmDeadLetters',
      auditLogField: 'crmAuditLog',
    });
    expect(platformNames('subscription', 'billing')).toMatchObject({ Type: 'Billing', prose: 'billing' });
    expect(platformSdl(platformNames('finance', 'ERP'))).toContain('type ErpDeadLetter {');
    expect(() => platformNames('x', 'two words')).toThrow(/one word/);
  });

  it('replaces only its own region and refuses broken markers', () => {
    const names = platformNames('customer', 'CRM');
    const once = withPlatformSdl('type Query {\n  a: Int\n}\n', names);
    expect(withPlatformSdl(once, names)).toBe(once);
    expect(once.startsWith('type Query {\n  a: Int\n}\n\n# --- platform-owned')).toBe(true);
    const edited = once.replace('type CrmDeadLetter {', 'type CrmDeadLetter {\n  extra: Int');
    expect(withPlatformSdl(edited, names)).toBe(once);
    expect(() => withPlatformSdl(once.replace('# --- platform-owned', '# ---'), names)).toThrow(
      /broken markers/,
    );
  });
});
