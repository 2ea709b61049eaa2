const CONNECT_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS did not answer)',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'the server closed the connection',
  '28P01': 'password authentication failed',
  '28000': 'the server refused this user (pg_hba.conf)',
  '3D000': 'the database does not exist',
};

/**
 * Why PostgreSQL could not be reached, in words an operator can act on: where (host:port, database,
 * user — never the password), what happened, and what to check. `setting` names where the URL came from.
 */
export function describePostgresConnectError(url: string, error: unknown, setting = 'DATABASE_URL'): string {
  let where = 'the server in ' + setting;
  let password = '';
  try {
    const parsed = new URL(url);
    password = decodeURIComponent(parsed.password);
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(default)';
    const user = decodeURIComponent(parsed.username) || '(default)';
    where = `${parsed.hostname || 'localhost'}:${parsed.port || '5432'} (database ${database}, user ${user})`;
  } catch {
    // Not a URL: say where it came from instead.
  }
  const failure = error as { code?: string; message?: string; errors?: { code?: string }[] } | undefined;
  const code = failure?.code ?? failure?.errors?.[0]?.code;
  let what = (code && CONNECT_FAILURES[code]) || failure?.message || String(error);
  if (password) what = what.replaceAll(password, '***');
  const check =
    code === '28P01' || code === '28000'
      ? `the user and password in ${setting}`
      : code === '3D000'
        ? `the database name in ${setting}, or create the database`
        : `that PostgreSQL is running and reachable there, and the host and port in ${setting}`;
  return `could not connect to PostgreSQL at ${where}: ${what}. Check ${check}`;
}
