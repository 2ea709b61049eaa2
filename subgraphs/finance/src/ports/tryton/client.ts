/**
 * A small typed JSON-RPC client for a Tryton server (trytond 6.0, as Debian ships it).
 *
 * The protocol, read from trytond's sources (`protocols/dispatcher.py`, `protocols/jsonrpc.py`,
 * `protocols/wrappers.py`, `security.py`):
 *
 * - every call is `POST http://HOST:PORT/DATABASE/` with `{"id", "method", "params"}`;
 * - `common.db.login` with `[login, {"password": …}]` answers `[userId, session]`, or HTTP 401
 *   (wrong login or password), 429 (too many failed attempts) or 404 (no such database);
 * - later calls carry `Authorization: Session base64(login:userId:session)`; an expired or unknown
 *   session answers HTTP 401;
 * - `model.<model>.<method>` takes the method's arguments followed by the context (a dict, always
 *   last); the user's context comes from `model.res.user.get_preferences(true, {})`;
 * - a refusal comes back as HTTP 200 with `"error": [kind, args]`: `["UserError", [message,
 *   description, domain]]` (access errors and validation errors are UserErrors too),
 *   `["UserWarning", [name, message, description]]`, `["ConcurrencyException", message]`,
 *   `["LoginException", [name, message, type]]`; any other exception as `[str(e), traceback]`;
 * - `Decimal`, `date`, `datetime` and `bytes` travel as objects tagged `"__class__"`.
 */
import { Buffer } from 'node:buffer';

export type TrytonErrorCode =
  /** The server did not answer (refused connection, DNS, timeout) or has no such database. */
  | 'TRYTON_UNREACHABLE'
  /** Wrong login or password, too many failed logins, or a session that cannot be renewed. */
  | 'TRYTON_AUTH'
  /** Tryton refused the call: a UserError (validation, access rights), a UserWarning, a concurrent change. */
  | 'TRYTON_REFUSED'
  /** The answer was not what the protocol promises, or the server failed with an unexpected exception. */
  | 'TRYTON_PROTOCOL';

/** How Tryton itself classed a refusal (the first element of its `error` array), when it said. */
export type TrytonErrorKind =
  'UserError' | 'UserWarning' | 'ConcurrencyException' | 'LoginException' | 'ServerError';

export class TrytonError extends Error {
  override readonly name = 'TrytonError';
  constructor(
    readonly code: TrytonErrorCode,
    message: string,
    readonly details: {
      /** The JSON-RPC method, e.g. `model.account.invoice.post`. */
      method?: string;
      kind?: TrytonErrorKind;
      /** Tryton's own message, unchanged (a UserError's message, a warning's message, …). */
      trytonMessage?: string;
      /** A UserError's or UserWarning's description. */
      description?: string;
      /** A UserWarning's name (the key a client records to skip it). */
      warningName?: string;
      httpStatus?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  /** Worth trying again later: the server was away, or another transaction changed the record. */
  get retryable(): boolean {
    return this.code === 'TRYTON_UNREACHABLE' || this.details.kind === 'ConcurrencyException';
  }
}

// --- values: Decimal, date, datetime, bytes ------------------------------------------------------

/** A Tryton `Decimal` (`{"__class__": "Decimal", "decimal": "12.30"}`): kept as its exact string. */
export class TrytonDecimal {
  constructor(readonly value: string) {
    if (!/^-?\d+(\.\d+)?$/.test(value)) throw new TypeError(`not a decimal: ${JSON.stringify(value)}`);
  }
  toJSON(): { __class__: 'Decimal'; decimal: string } {
    return { __class__: 'Decimal', decimal: this.value };
  }
  toString(): string {
    return this.value;
  }
}

/** A Tryton `date` (`{"__class__": "date", "year", "month", "day"}`); `toString()` is `YYYY-MM-DD`. */
export class TrytonDate {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
  ) {}
  static parse(iso: string): TrytonDate {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
    if (!m) throw new TypeError(`not a YYYY-MM-DD date: ${JSON.stringify(iso)}`);
    return new TrytonDate(Number(m[1]), Number(m[2]), Number(m[3]));
  }
  toJSON(): { __class__: 'date'; year: number; month: number; day: number } {
    return { __class__: 'date', year: this.year, month: this.month, day: this.day };
  }
  toString(): string {
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
  }
}

export const decimal = (value: string | number): TrytonDecimal =>
  new TrytonDecimal(typeof value === 'number' ? String(value) : value);
export const date = (iso: string): TrytonDate => TrytonDate.parse(iso);

/** JSON.parse reviver: Tryton's tagged objects to TrytonDecimal, TrytonDate, Date (UTC) and Buffer. */
function revive(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  switch (v.__class__) {
    case 'Decimal':
      return new TrytonDecimal(String(v.decimal));
    case 'date':
      return new TrytonDate(Number(v.year), Number(v.month), Number(v.day));
    case 'datetime':
      return new Date(
        Date.UTC(
          Number(v.year),
          Number(v.month) - 1,
          Number(v.day),
          Number(v.hour),
          Number(v.minute),
          Number(v.second),
          Math.floor(Number(v.microsecond) / 1000),
        ),
      );
    case 'bytes':
      return Buffer.from(String(v.base64), 'base64');
    default:
      return value;
  }
}

/** JSON.stringify replacer: Date as Tryton's datetime (UTC), Buffer as bytes; the classes above have toJSON. */
function replace(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Date) {
    return {
      __class__: 'datetime',
      year: original.getUTCFullYear(),
      month: original.getUTCMonth() + 1,
      day: original.getUTCDate(),
      hour: original.getUTCHours(),
      minute: original.getUTCMinutes(),
      second: original.getUTCSeconds(),
      microsecond: original.getUTCMilliseconds() * 1000,
    };
  }
  if (Buffer.isBuffer(original)) return { __class__: 'bytes', base64: original.toString('base64') };
  return value;
}

export const encodeTryton = (value: unknown): string => JSON.stringify(value, replace);
export const decodeTryton = (text: string): unknown => JSON.parse(text, revive);

// --- the URL --------------------------------------------------------------------------------------

export interface TrytonConfig {
  /** `http://HOST:PORT/DATABASE/`: where every call is posted. */
  endpoint: string;
  database: string;
  login: string;
  password: string;
  /** `login@host:port/database`, for messages (never the password). */
  display: string;
}

/** Parses `http://USER:PASSWORD@HOST:PORT/DATABASE`; an error names what is wrong, never the password. */
export function parseTrytonUrl(url: string, variable = 'TRYTON_URL'): TrytonConfig {
  const shape = `${variable} must look like http://USER:PASSWORD@HOST:PORT/DATABASE`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`${shape}; it is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`${shape}; its scheme is ${parsed.protocol.replace(/:$/, '')}, not http or https`);
  }
  const login = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const where = `${parsed.host}${parsed.pathname}`;
  if (!login) throw new TypeError(`${shape}; it has no USER (${where})`);
  if (!password) throw new TypeError(`${shape}; it has no PASSWORD for ${login} (${where})`);
  const database = decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, ''));
  if (!database || database.includes('/')) {
    throw new TypeError(`${shape}; its path must be exactly the DATABASE name (${login}@${where})`);
  }
  if (parsed.search || parsed.hash) {
    throw new TypeError(`${shape}; it has a query or fragment (${login}@${parsed.host}/${database})`);
  }
  const origin = `${parsed.protocol}//${parsed.host}`;
  return {
    endpoint: `${origin}/${encodeURIComponent(database)}/`,
    database,
    login,
    password,
    display: `${login}@${parsed.host}/${database}`,
  };
}

// --- the client -------------------------------------------------------------------------------

export type TrytonContext = Record<string, unknown>;

export interface TrytonClientOptions {
  /** Per HTTP request; default 30 s (posting an invoice takes well under a second). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface Session {
  userId: number;
  header: string;
  context: TrytonContext;
}

let nextId = 1;

export class TrytonClient {
  readonly config: TrytonConfig;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private session: Session | null = null;
  private loggingIn: Promise<Session> | null = null;

  constructor(config: TrytonConfig | string, options: TrytonClientOptions = {}) {
    this.config = typeof config === 'string' ? parseTrytonUrl(config) : config;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The logged-in user's id (logs in if needed). */
  async userId(): Promise<number> {
    return (await this.ensureSession()).userId;
  }

  /** The user's context from `res.user.get_preferences` (language, company, …), as sent with every call. */
  async context(): Promise<TrytonContext> {
    return { ...(await this.ensureSession()).context };
  }

  /** Logs in (again): a new session and the user's context. */
  async login(): Promise<void> {
    this.session = null;
    await this.ensureSession();
  }

  /** Ends the session on the server; a later call logs in again. */
  async logout(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session) await this.post('common.db.logout', [], session.header).catch(() => undefined);
  }

  /** `model.<model>.<method>(...args, context)` with the user's context (plus `context`). */
  async call<T = unknown>(
    model: string,
    method: string,
    args: unknown[] = [],
    context: TrytonContext = {},
  ): Promise<T> {
    return this.rpc<T>(`model.${model}.${method}`, args, context);
  }

  /**
   * Like `call`, but a UserWarning that `accept` approves is recorded as seen (`res.user.warning`,
   * for this user, once) and the call repeated — what Tryton's own client does when the user
   * presses "Yes". At most 5 warnings per call; any other refusal is thrown.
   */
  async callAcceptingWarnings<T = unknown>(
    model: string,
    method: string,
    args: unknown[],
    accept: (warning: { name: string; message: string }) => boolean,
    context: TrytonContext = {},
  ): Promise<T> {
    for (let seen = 0; ; seen++) {
      try {
        return await this.call<T>(model, method, args, context);
      } catch (error) {
        if (!(error instanceof TrytonError) || error.details.kind !== 'UserWarning' || seen >= 5) throw error;
        const warning = { name: error.details.warningName ?? '', message: error.details.trytonMessage ?? '' };
        if (!accept(warning)) throw error;
        const user = await this.userId();
        await this.call('res.user.warning', 'create', [[{ user, name: warning.name, always: false }]]);
      }
    }
  }

  /** `wizard.<name>.<method>(...args, context)`: `create`, `execute`, `delete`. */
  async wizard<T = unknown>(
    name: string,
    method: string,
    args: unknown[] = [],
    context: TrytonContext = {},
  ): Promise<T> {
    return this.rpc<T>(`wizard.${name}.${method}`, args, context);
  }

  /** Any authenticated method with the user's context appended; logs in again once on an expired session. */
  async rpc<T = unknown>(method: string, args: unknown[], context: TrytonContext = {}): Promise<T> {
    let session = await this.ensureSession();
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.post(method, [...args, { ...session.context, ...context }], session.header)) as T;
      } catch (error) {
        const expired = error instanceof TrytonError && error.details.httpStatus === 401;
        if (!expired || attempt > 0) {
          if (expired) {
            throw new TrytonError(
              'TRYTON_AUTH',
              `Tryton refused the session for ${this.config.display} again after logging in anew (${method})`,
              {
                method,
                httpStatus: 401,
              },
            );
          }
          throw error;
        }
        if (this.session === session) this.session = null;
        session = await this.ensureSession();
      }
    }
  }

  private async ensureSession(): Promise<Session> {
    if (this.session) return this.session;
    this.loggingIn ??= this.openSession().finally(() => {
      this.loggingIn = null;
    });
    this.session = await this.loggingIn;
    return this.session;
  }

  private async openSession(): Promise<Session> {
    const { login, password, display } = this.config;
    let result: unknown;
    try {
      result = await this.post('common.db.login', [login, { password }], null);
    } catch (error) {
      if (
        error instanceof TrytonError &&
        error.code === 'TRYTON_PROTOCOL' &&
        error.details.httpStatus === 401
      ) {
        throw new TrytonError('TRYTON_AUTH', `Tryton refused the login ${display}: wrong user or password`, {
          method: 'common.db.login',
          httpStatus: 401,
        });
      }
      if (error instanceof TrytonError && error.details.httpStatus === 429) {
        throw new TrytonError(
          'TRYTON_AUTH',
          `Tryton refused the login ${display}: too many failed logins, try again later`,
          {
            method: 'common.db.login',
            httpStatus: 429,
          },
        );
      }
      if (error instanceof TrytonError && error.details.httpStatus === 404) {
        throw new TrytonError(
          'TRYTON_UNREACHABLE',
          `Tryton at ${display} has no database ${this.config.database}`,
          {
            method: 'common.db.login',
            httpStatus: 404,
          },
        );
      }
      if (error instanceof TrytonError && error.details.kind === 'LoginException') {
        throw new TrytonError(
          'TRYTON_AUTH',
          `Tryton asks ${display} for more than a password: ${error.details.trytonMessage ?? ''}`,
          error.details,
        );
      }
      throw error;
    }
    if (!Array.isArray(result) || typeof result[0] !== 'number' || typeof result[1] !== 'string') {
      throw new TrytonError(
        'TRYTON_PROTOCOL',
        `Tryton's login answer for ${display} is not [userId, session]`,
        {
          method: 'common.db.login',
        },
      );
    }
    const [userId, key] = result as [number, string];
    const header = `Session ${Buffer.from(`${login}:${userId}:${key}`, 'utf8').toString('base64')}`;
    const preferences = await this.post('model.res.user.get_preferences', [true, {}], header);
    if (preferences === null || typeof preferences !== 'object' || Array.isArray(preferences)) {
      throw new TrytonError('TRYTON_PROTOCOL', `Tryton's user preferences for ${display} are not an object`, {
        method: 'model.res.user.get_preferences',
      });
    }
    return { userId, header, context: preferences as TrytonContext };
  }

  /** One JSON-RPC request; errors mapped to TrytonError (401 left as TRYTON_PROTOCOL with httpStatus for the callers above). */
  private async post(method: string, params: unknown[], authorization: string | null): Promise<unknown> {
    const { endpoint, display } = this.config;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (authorization) headers.authorization = authorization;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(endpoint, {
        method: 'POST',
        headers,
        body: encodeTryton({ id: nextId++, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const timedOut =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const reason = timedOut ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(error);
      throw new TrytonError(
        'TRYTON_UNREACHABLE',
        `Tryton at ${display} is unreachable (${method}): ${reason}`,
        {
          method,
          cause: error,
        },
      );
    }
    if (
      response.status === 401 ||
      response.status === 403 ||
      response.status === 404 ||
      response.status === 429
    ) {
      const what: Record<number, string> = {
        401: 'not authenticated (no session, or it expired)',
        403: 'forbidden (the method is not exposed over RPC, or the origin is refused)',
        404: 'not found',
        429: 'too many requests',
      };
      const code = response.status === 403 ? 'TRYTON_REFUSED' : 'TRYTON_PROTOCOL';
      throw new TrytonError(
        code,
        `Tryton at ${display} answered ${response.status} to ${method}: ${what[response.status]}`,
        {
          method,
          httpStatus: response.status,
        },
      );
    }
    let body: unknown;
    try {
      body = decodeTryton(text);
    } catch {
      throw new TrytonError(
        'TRYTON_PROTOCOL',
        `Tryton at ${display} answered ${response.status} to ${method} with something that is not JSON: ${text.slice(0, 200)}`,
        {
          method,
          httpStatus: response.status,
        },
      );
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new TrytonError(
        'TRYTON_PROTOCOL',
        `Tryton at ${display} answered ${method} with a JSON value that is not a JSON-RPC object`,
        {
          method,
          httpStatus: response.status,
        },
      );
    }
    const envelope = body as { result?: unknown; error?: unknown };
    if (envelope.error !== undefined && envelope.error !== null)
      throw refusal(method, display, envelope.error);
    if (!response.ok) {
      throw new TrytonError(
        'TRYTON_PROTOCOL',
        `Tryton at ${display} answered HTTP ${response.status} to ${method}`,
        {
          method,
          httpStatus: response.status,
        },
      );
    }
    if (!('result' in envelope)) {
      throw new TrytonError(
        'TRYTON_PROTOCOL',
        `Tryton at ${display} answered ${method} without result or error`,
        { method },
      );
    }
    return envelope.result;
  }
}

function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} ${cause.message}` : cause.message;
  }
  return String(cause);
}

const str = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);

/** Tryton's `error` array to a TrytonError carrying Tryton's own message. */
function refusal(method: string, display: string, error: unknown): TrytonError {
  const [kind, args] = Array.isArray(error) ? (error as unknown[]) : [undefined, error];
  const list = Array.isArray(args) ? (args as unknown[]) : [args];
  switch (kind) {
    case 'UserError': {
      const [message, description] = list;
      const text = [str(message), str(description)].filter(Boolean).join(' — ');
      return new TrytonError('TRYTON_REFUSED', `Tryton refused ${method}: ${text}`, {
        method,
        kind,
        trytonMessage: str(message),
        description: str(description),
      });
    }
    case 'UserWarning': {
      const [name, message, description] = list;
      const text = [str(message), str(description)].filter(Boolean).join(' — ');
      return new TrytonError('TRYTON_REFUSED', `Tryton warns on ${method} (${str(name)}): ${text}`, {
        method,
        kind,
        trytonMessage: str(message),
        description: str(description),
        warningName: str(name),
      });
    }
    case 'ConcurrencyException':
      return new TrytonError(
        'TRYTON_REFUSED',
        `Tryton refused ${method}: another transaction changed the record (${str(args)})`,
        {
          method,
          kind,
          trytonMessage: str(args),
        },
      );
    case 'LoginException': {
      const [, message] = list;
      return new TrytonError(
        'TRYTON_AUTH',
        `Tryton at ${display} asks for a login parameter on ${method}: ${str(message)}`,
        {
          method,
          kind,
          trytonMessage: str(message),
        },
      );
    }
    default:
      // Any other exception: `[str(exception), traceback]`; the traceback stays in Tryton's log.
      return new TrytonError('TRYTON_PROTOCOL', `Tryton failed on ${method}: ${str(kind)}`, {
        method,
        kind: 'ServerError',
        trytonMessage: str(kind),
      });
  }
}
