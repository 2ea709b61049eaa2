import { Buffer } from 'node:buffer';

// Reads a Tryton database over its JSON-RPC with nothing of ours in between: what a test checks
// the adapter against. Decimals arrive as {"__class__": "Decimal", "decimal": "…"}.

type Json = unknown;

export interface TrytonReader {
  call<T = Json>(model: string, method: string, args: Json[]): Promise<T>;
}

export async function trytonReader(url: string): Promise<TrytonReader> {
  const parsed = new URL(url);
  const login = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const endpoint = `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/?$/, '/')}`;
  let id = 0;
  const post = async (method: string, params: Json[], auth?: string): Promise<Json> => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
      body: JSON.stringify({ id: ++id, method, params }),
    });
    const body = (await response.json()) as { result?: Json; error?: Json };
    if (body.error !== undefined && body.error !== null)
      throw new Error(`${method}: ${JSON.stringify(body.error)}`);
    return body.result;
  };
  const [userId, session] = (await post('common.db.login', [login, { password }])) as [number, string];
  const auth = `Session ${Buffer.from(`${login}:${userId}:${session}`).toString('base64')}`;
  const context = (await post('model.res.user.get_preferences', [true, {}], auth)) as Record<string, Json>;
  return {
    call: async <T>(model: string, method: string, args: Json[]) =>
      (await post(`model.${model}.${method}`, [...args, context], auth)) as T,
  };
}

/** A Tryton Decimal (or number) as a string with two decimals. */
export const decimalText = (value: Json): string => {
  const text =
    value && typeof value === 'object' && 'decimal' in value
      ? String((value as { decimal: string }).decimal)
      : String(value);
  const [whole, fraction = ''] = text.split('.');
  return `${whole}.${fraction.padEnd(2, '0').slice(0, 2)}`;
};
