import { Buffer } from 'node:buffer';

// Reads a Tryton database over its JSON-RPC with nothing of ours in between: what a test checks
// the adapter against. Decimals arrive as {"__class__": "Decimal", "decimal": "…"}.

type Json = unknown;

export interface TrytonReader {
  call<T = Json>(model: string, method: string, args: Json[]): Promise<T>;
  /** `wizard.<name>.<method>` with extra context (active_model, active_id …). */
  wizard<T = Json>(name: string, method: string, args: Json[], context: Record<string, Json>): Promise<T>;
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
    wizard: async <T>(name: string, method: string, args: Json[], extra: Record<string, Json>) =>
      (await post(`wizard.${name}.${method}`, [...args, { ...context, ...extra }], auth)) as T,
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

/**
 * Pays a posted customer invoice in full the way an accountant does in Tryton's client: the
 * `account.invoice.pay` wizard with the cash payment method, dated `on`.
 */
export async function payInTryton(rpc: TrytonReader, invoiceId: number, on: string): Promise<void> {
  const [method] = await rpc.call<number[]>('account.invoice.payment.method', 'search', [[], 0, 1, null]);
  const context = { active_model: 'account.invoice', active_id: invoiceId, active_ids: [invoiceId] };
  const [session] = await rpc.wizard<[number]>('account.invoice.pay', 'create', [], context);
  try {
    const start = await rpc.wizard<{ view: { defaults: Record<string, Json> } }>(
      'account.invoice.pay',
      'execute',
      [session, {}, 'start'],
      context,
    );
    const [year, month, day] = on.split('-').map(Number);
    const values = {
      currency: start.view.defaults.currency,
      amount: start.view.defaults.amount,
      payment_method: method,
      date: { __class__: 'date', year, month, day },
      description: 'entered in Tryton by an accountant',
    };
    await rpc.wizard('account.invoice.pay', 'execute', [session, { start: values }, 'choice'], context);
  } finally {
    await rpc.wizard('account.invoice.pay', 'delete', [session], context);
  }
}
