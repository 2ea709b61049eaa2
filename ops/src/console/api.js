/* global fetch, sessionStorage, atob */
// The console's only way to data: the registered operations (schema/operations/ops.*.graphql),
// sent to this gateway's /graphql with the bearer token, like any other client.

const TOKEN_KEY = 'c2c.ops.token';
let operations = null;

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** The claims of a JWT, for display only (the gateway verifies the token; the page does not). */
export function claimsOf(jwt) {
  try {
    const part = jwt.split('.')[1] ?? '';
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const claims = JSON.parse(json);
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

/** Loads the registered operations' text and manifest ids, once. */
export async function loadOperations() {
  if (operations) return;
  const response = await fetch('/ops/operations.json', { cache: 'no-cache', credentials: 'omit' });
  if (!response.ok) throw new Error(`the console's operations could not be loaded (HTTP ${response.status})`);
  operations = (await response.json()).operations;
}

/**
 * Sends one registered operation. Never throws: a transport failure becomes an error with code
 * GATEWAY_UNREACHABLE, so a refresh can show what it has. Returns { status, data, errors }.
 */
export async function send(name, variables = {}) {
  const operation = operations?.[name];
  if (!operation) return failure(0, 'CONSOLE_ERROR', `operation ${name} is not registered`);
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      credentials: 'omit',
      cache: 'no-store',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${token.get() ?? ''}`,
      },
      // The registered text and its manifest id: accepted in every safelist mode.
      body: JSON.stringify({
        operationName: name,
        query: operation.body,
        variables,
        extensions: { persistedQuery: { version: 1, sha256Hash: operation.id } },
      }),
    });
  } catch {
    return failure(0, 'GATEWAY_UNREACHABLE', 'the gateway cannot be reached');
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: a proxy's error page, say.
  }
  if (!body || typeof body !== 'object')
    return failure(response.status, 'HTTP_ERROR', `the gateway answered HTTP ${response.status}`);
  return {
    status: response.status,
    data: body.data ?? null,
    errors: Array.isArray(body.errors) ? body.errors : [],
  };
}

function failure(status, code, message) {
  return { status, data: null, errors: [{ message, extensions: { code } }] };
}

export const codeOf = (error) => error?.extensions?.code ?? null;
