/* global document, window, setTimeout, clearTimeout */
// The ops console: sign in with a bearer token, then refresh every panel every few seconds through
// the registered operations. Every value is put into the page as text (no innerHTML), so nothing a
// system reports can become markup.
import { claimsOf, codeOf, loadOperations, send, token } from './api.js';
import { lagChart, minuteSlots, throughputChart } from './charts.js';

const REFRESH_MS = 5_000;
const RECONCILE_MS = 30_000;
const GRACE_MINUTES = 5;
const STATUSES = ['ACCEPTED', 'INVOICED', 'POSTED', 'EXCEPTION', 'COMPLETED'];
const SYSTEMS = [
  ['crm', 'CRM', 'ReplayCrmDeadLetters', 'replayCrmDeadLetters'],
  ['billing', 'billing', 'ReplayBillingDeadLetters', 'replayBillingDeadLetters'],
  ['erp', 'ERP', 'ReplayErpDeadLetters', 'replayErpDeadLetters'],
];

const $ = (id) => document.getElementById(id);
const state = {
  status: null,
  paused: false,
  timer: null,
  generation: 0,
  reconciledAt: 0,
  /** When every request of a refresh last answered without an error (what "updated" shows). */
  lastCompleteAt: 0,
  /** Amendments COMPLETED in all, from the last unfiltered page (total minus the open ones). */
  completedCount: null,
  lastProblems: [],
  replaying: new Set(),
};

// ---- DOM helpers -------------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof window.Node ? child : String(child));
  }
  return node;
}

const show = (id, visible) => {
  $(id).hidden = !visible;
};

function setRows(tableId, rows, emptyText, columns) {
  const body = $(tableId).tBodies[0];
  body.replaceChildren(
    ...(rows.length ? rows : [h('tr', { class: 'empty' }, h('td', { colspan: columns }, emptyText))]),
  );
}

// ---- formatting --------------------------------------------------------------------------------

const time = (iso) =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTime = (iso) => {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? time(iso) : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time(iso)}`;
};

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}
const ago = (iso) => duration((Date.now() - Date.parse(iso)) / 1000);
const short = (id) => (id ? String(id).slice(0, 8) : '—');
const human = (code) => code.charAt(0) + code.slice(1).toLowerCase().replace(/_/g, ' ');

// Money stays exact: decimal strings become integers of 10⁻⁴ units (BigInt) to add and compare.
const SCALE = 4;
function units(amount) {
  const [int, frac = ''] = String(amount).replace('-', '').split('.');
  const value = BigInt(int || '0') * 10n ** BigInt(SCALE) + BigInt((frac + '0000').slice(0, SCALE));
  return String(amount).startsWith('-') ? -value : value;
}
function decimal(value, digits = 2) {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const int = abs / 10n ** BigInt(SCALE);
  const frac = (abs % 10n ** BigInt(SCALE)).toString().padStart(SCALE, '0').slice(0, digits);
  return `${negative ? '-' : ''}${int}${digits ? `.${frac}` : ''}`;
}
function money(value, currency) {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
    .maximumFractionDigits;
  // Intl formats a decimal string exactly (no float on the way).
  return new Intl.NumberFormat([], { style: 'currency', currency }).format(decimal(value, digits));
}

// ---- session -----------------------------------------------------------------------------------

function signedOut(message) {
  state.generation++;
  clearTimeout(state.timer);
  token.clear();
  show('session', false);
  show('dashboard', false);
  show('forbidden', false);
  show('banner', false);
  show('sign-in', true);
  $('sign-in-error').textContent = message ?? '';
  show('sign-in-error', Boolean(message));
  $('token').value = '';
  $('token').focus();
}

function forbidden() {
  state.generation++;
  clearTimeout(state.timer);
  const claims = claimsOf(token.get() ?? '') ?? {};
  token.clear();
  show('session', false);
  show('dashboard', false);
  show('banner', false);
  show('sign-in', false);
  $('forbidden-text').textContent =
    `This console is for the finance and admin roles. Your token is for ${claims.sub ?? 'an unknown subject'}` +
    ` with the role ${claims.role ?? 'unknown'} (scopes: ${claims.scope || 'none'}), which may not read the operational data.`;
  show('forbidden', true);
}

async function signIn(jwt) {
  token.set(jwt.trim());
  const claims = claimsOf(jwt) ?? {};
  $('who').textContent = `${claims.sub ?? 'signed in'} · ${claims.role ?? 'no role'}`;
  $('who').title =
    `scopes: ${claims.scope ?? '—'}${claims.exp ? ` · expires ${new Date(claims.exp * 1000).toLocaleString()}` : ''}`;
  show('sign-in', false);
  show('forbidden', false);
  show('session', true);
  show('dashboard', true);
  state.reconciledAt = 0;
  state.lastCompleteAt = 0;
  state.generation++;
  await refresh(state.generation);
}

// ---- refresh -----------------------------------------------------------------------------------

function schedule(generation) {
  clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    if (generation !== state.generation) return;
    if (state.paused || document.hidden) return schedule(generation);
    void refresh(generation);
  }, REFRESH_MS);
}

async function refresh(generation = state.generation) {
  const reconcile = Date.now() - state.reconciledAt >= RECONCILE_MS;
  const requests = [
    send('Amendments', { status: state.status, first: 25 }),
    send('DeadLetters', {}),
    send('SyncBacklog', { graceMinutes: GRACE_MINUTES }),
    send('AmendmentActivity', { minutes: 60 }),
    send('Orders', { first: 15 }),
  ];
  if (reconcile) {
    requests.push(send('ReconciliationTotals', { graceMinutes: GRACE_MINUTES }));
    requests.push(send('UsageReconciliation', {}));
  }
  const [amendments, letters, backlog, activity, orders, totals, usage] = await Promise.all(requests);
  if (generation !== state.generation) return;
  const all = [amendments, letters, backlog, activity, orders, totals, usage].filter(Boolean);
  // No answer from /graphql at all (no connection, or a proxy's 502/503/504 page): the gateway is
  // down, not the three systems. Keep showing the last data, and say since when.
  if (all.every(gatewayUnreachable)) return gatewayDown(generation);
  const errors = all.flatMap((r) => r.errors);
  if (all.some((r) => r.status === 401) || errors.some((e) => codeOf(e) === 'UNAUTHENTICATED'))
    return signedOut('The gateway refused the token: it is expired or not valid here. Sign in again.');
  if (errors.some((e) => codeOf(e) === 'FORBIDDEN')) return forbidden();

  renderAmendments(amendments.data);
  renderOrders(orders.data);
  renderDeadLetters(letters.data);
  renderBacklog(backlog.data);
  renderActivity(activity.data);
  if (totals) {
    if (totals.data && totals.errors.length === 0) state.reconciledAt = Date.now();
    renderReconciliation(totals.data, totals.errors.length > 0);
  }
  if (usage) renderUsageReconciliation(usage.data);
  renderProblems(errors);
  if (errors.length === 0) state.lastCompleteAt = Date.now();
  renderFreshness(errors.length > 0 ? 'partial' : 'live');
  schedule(generation);
}

function gatewayUnreachable(result) {
  const code = codeOf(result.errors[0]);
  return (
    result.data === null &&
    (code === 'GATEWAY_UNREACHABLE' ||
      (code === 'HTTP_ERROR' && result.status >= 502 && result.status <= 504))
  );
}

function gatewayDown(generation) {
  const since = state.lastCompleteAt
    ? ` It last answered completely at ${clockTime(state.lastCompleteAt)}; the panels show that.`
    : '';
  const banner = $('banner');
  banner.replaceChildren(
    h(
      'div',
      {},
      h('strong', {}, 'Problem: '),
      `The gateway (${window.location.origin}/graphql) cannot be reached, so nothing is known of the CRM, billing or the ERP right now.${since} Retrying every ${REFRESH_MS / 1000} seconds.`,
    ),
  );
  banner.hidden = false;
  banner.dataset.systems = '';
  banner.dataset.gateway = 'down';
  renderFreshness('down');
  schedule(generation);
}

const clockTime = (ms) => time(new Date(ms).toISOString());

/** The live indicator: the time of the last complete refresh, never a clock that runs on regardless. */
function renderFreshness(kind) {
  const live = $('live');
  live.classList.toggle('stale', kind !== 'live');
  live.dataset.state = kind;
  const at = state.lastCompleteAt ? clockTime(state.lastCompleteAt) : 'never';
  const prefix = state.paused ? 'Paused' : { live: 'Live', partial: 'Partial', down: 'Gateway down' }[kind];
  $('live-text').textContent = `${prefix} · updated ${at}`;
  live.title =
    kind === 'live'
      ? 'Refreshes every 5 seconds while this tab is visible'
      : `The last refresh had errors; ${at === 'never' ? 'no refresh has been complete yet' : `the last complete one was at ${at}`}`;
}

function renderProblems(errors) {
  const systems = new Set();
  const other = new Set();
  for (const error of errors) {
    const code = codeOf(error);
    if (code === 'SUBGRAPH_UNAVAILABLE')
      systems.add(error.extensions.system ?? error.extensions.serviceName ?? 'a system');
    else if (code === 'GATEWAY_UNREACHABLE')
      other.add('The gateway cannot be reached; retrying every few seconds.');
    else if (code === 'RATE_LIMITED') other.add('Rate limited by the gateway; the next refresh will retry.');
    else other.add(`${error.message}${code ? ` (${code})` : ''}`);
  }
  const lines = [
    ...[...systems].map(
      (system) =>
        `${system} is unavailable: its panels show what the other systems report, and its parts are empty.`,
    ),
    ...other,
  ];
  const banner = $('banner');
  banner.replaceChildren(...lines.map((line) => h('div', {}, h('strong', {}, 'Problem: '), line)));
  banner.hidden = lines.length === 0;
  banner.dataset.systems = [...systems].join(',');
  banner.dataset.gateway = 'up';
}

// ---- panels ------------------------------------------------------------------------------------

function badge(text, kind, title) {
  return h('span', { class: `badge ${kind}`, title }, text);
}

function stepCell(step) {
  if (!step) return h('td', {}, '—');
  const icon = { DONE: '✓', FAILED: '✕', PENDING: '…', SKIPPED: '–' }[step.status] ?? '?';
  const title = [
    `${step.system}: ${step.status}`,
    `attempts: ${step.attempts}`,
    step.completedAt ? `done at ${dateTime(step.completedAt)}` : null,
    step.lastError ? `last error: ${step.lastError}` : null,
  ]
    .filter(Boolean)
    .join('\n');
  return h(
    'td',
    { class: 'step', 'data-system': step.system, 'data-step-status': step.status },
    badge(`${icon} ${human(step.status)}`, `step-${step.status.toLowerCase()}`, title),
    step.attempts > 1 ? h('span', { class: 'attempts', title: 'attempts' }, `×${step.attempts}`) : null,
    step.status === 'FAILED' && step.lastError
      ? h('div', { class: 'error-line', title: step.lastError }, step.lastError)
      : null,
  );
}

function renderOrders(data) {
  const page = data?.orders;
  const rows = (page?.nodes ?? []).map((o) => {
    const steps = Object.fromEntries(o.steps.map((s) => [s.system, s]));
    const deal = o.opportunity;
    const failed = o.checks.filter((c) => c.status === 'FAILED');
    const checks =
      o.checks.length === 0
        ? h('span', { class: 'muted' }, 'waiting')
        : failed.length === 0
          ? badge('✓ passed', 'step-done', o.checks.map((c) => `${c.name}: ${c.message}`).join('\n'))
          : h(
              'div',
              {},
              ...failed.map((c) => badge(`✕ ${human(c.name)}`, 'step-failed', c.message)),
              h('div', { class: 'error-line', title: failed[0].message }, failed[0].message),
            );
    return h(
      'tr',
      { 'data-order-id': o.id, 'data-status': o.status },
      h(
        'td',
        { title: o.createdAt },
        dateTime(o.createdAt),
        h('div', { class: 'muted' }, `${ago(o.createdAt)} ago`),
      ),
      h(
        'td',
        {},
        deal?.customer?.name ??
          h('span', { class: 'muted', title: 'the CRM did not answer' }, short(deal?.customer?.id)),
      ),
      h('td', {}, deal ? `${deal.name} · ${deal.planCode} × ${deal.seats}` : '—'),
      h('td', { class: 'status' }, badge(human(o.status), `status-${o.status.toLowerCase()}`)),
      h('td', { class: 'checks' }, checks),
      stepCell(steps.BILLING),
      stepCell(steps.ERP),
      stepCell(steps.CRM),
      h('td', { class: 'mono', title: o.correlationId }, short(o.correlationId)),
    );
  });
  setRows('orders', rows, page ? 'No orders yet.' : 'The CRM did not answer.', 9);
  $('orders-foot').textContent = page
    ? `Newest ${rows.length} of ${page.totalCount} order(s). A failed step is replayed from its system's dead letters.`
    : '';
}

function renderAmendments(data) {
  const open = data?.open ?? [];
  const counts = Object.fromEntries(open.map((o) => [o.status, o.count]));
  const openTotal = open.reduce((n, o) => n + o.count, 0);
  // Open counts are per status; COMPLETED is every amendment that is not open.
  if (data?.amendments && state.status === null)
    state.completedCount = data.amendments.totalCount - openTotal;
  if (data?.amendments && state.status === 'COMPLETED') state.completedCount = data.amendments.totalCount;
  counts.COMPLETED = state.completedCount;
  kpi('kpi-open', data ? openTotal : '–', openTotal > 0 ? 'info' : 'ok');
  kpi('kpi-exceptions', data ? (counts.EXCEPTION ?? 0) : '–', counts.EXCEPTION ? 'bad' : 'ok');

  const chips = [[null, 'All'], ...STATUSES.map((s) => [s, human(s)])].map(([status, label]) =>
    h(
      'button',
      {
        type: 'button',
        class: `chip${state.status === status ? ' active' : ''}${status ? ` chip-${status.toLowerCase()}` : ''}`,
        'aria-pressed': state.status === status ? 'true' : 'false',
        onclick: () => {
          state.status = status;
          void refresh();
        },
      },
      label,
      status
        ? h('span', { class: 'count' }, counts[status] === null ? '…' : String(counts[status] ?? 0))
        : null,
    ),
  );
  $('status-filter').replaceChildren(...chips);

  const page = data?.amendments;
  const rows = (page?.nodes ?? []).map((a) => {
    const steps = Object.fromEntries(a.steps.map((s) => [s.system, s]));
    const customer = a.subscription?.customer;
    const change =
      a.kind === 'RENEWAL'
        ? `Renewal · ${a.seatsAfter} seats`
        : a.kind === 'CANCELLATION'
          ? 'Cancellation'
          : `Seats ${a.seatsBefore} → ${a.seatsAfter}`;
    return h(
      'tr',
      { 'data-amendment-id': a.id, 'data-status': a.status },
      h(
        'td',
        { title: a.createdAt },
        dateTime(a.createdAt),
        h('div', { class: 'muted' }, `${ago(a.createdAt)} ago`),
      ),
      h(
        'td',
        {},
        customer?.name ?? h('span', { class: 'muted', title: 'the CRM did not answer' }, short(customer?.id)),
      ),
      h('td', {}, change),
      h('td', { class: 'status' }, badge(human(a.status), `status-${a.status.toLowerCase()}`)),
      stepCell(steps.BILLING),
      stepCell(steps.ERP),
      stepCell(steps.CRM),
      h('td', { class: 'mono', title: a.correlationId }, short(a.correlationId)),
    );
  });
  setRows('amendments', rows, page ? 'No amendments here.' : 'Billing did not answer.', 8);
  $('amendments-foot').textContent = page
    ? `Newest ${rows.length} of ${page.totalCount}${state.status ? ` ${human(state.status).toLowerCase()}` : ''} amendment(s). Hover a step for its attempts and last error.`
    : '';
}

function renderDeadLetters(data) {
  const letters = [];
  const missing = [];
  for (const [key, system, operation, field] of SYSTEMS) {
    if (!data || data[key] === null || data[key] === undefined) missing.push(system);
    else for (const letter of data[key]) letters.push({ ...letter, system, operation, field });
  }
  letters.sort((a, b) => Date.parse(b.deadAt) - Date.parse(a.deadAt));
  kpi('kpi-dead', data ? letters.length : '–', letters.length ? 'bad' : 'ok');
  const rows = letters.map((letter) => {
    const key = `${letter.system}:${letter.id}`;
    const busy = state.replaying.has(key);
    return h(
      'tr',
      {
        'data-dead-letter': key,
        'data-subject': letter.subject,
        'data-correlation-id': letter.correlationId,
      },
      h('td', {}, badge(letter.system, 'system'), h('div', { class: 'muted mono' }, `#${letter.id}`)),
      h(
        'td',
        {},
        h('div', {}, letter.eventType),
        h(
          'div',
          { class: 'muted', title: `subject ${letter.subject}\ncorrelation ${letter.correlationId}` },
          `${letter.consumer} · ${short(letter.subject)}`,
        ),
      ),
      h('td', { class: 'error-cell' }, h('div', { class: 'error-line', title: letter.error }, letter.error)),
      h('td', { class: 'num' }, String(letter.attempts)),
      h('td', { class: 'nowrap', title: letter.deadAt }, ago(letter.deadAt)),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'primary small',
            disabled: busy,
            'aria-label': `Replay ${letter.system} dead letter ${letter.id}`,
            onclick: () => void replay(letter),
          },
          busy ? 'Replaying…' : 'Replay',
        ),
      ),
    );
  });
  const note = missing.length
    ? `Nothing waiting in the systems that answered; ${missing.join(', ')} did not answer.`
    : 'Nothing waiting.';
  setRows('dead-letters', rows, note, 6);
}

async function replay(letter) {
  const key = `${letter.system}:${letter.id}`;
  state.replaying.add(key);
  const generation = state.generation;
  renderReplaying(key);
  const result = await send(letter.operation, { ids: [letter.id] });
  state.replaying.delete(key);
  if (generation !== state.generation) return;
  const payload = result.data?.[letter.field];
  const outcome = payload?.results?.[0];
  if (result.errors.some((e) => codeOf(e) === 'FORBIDDEN')) return forbidden();
  if (outcome?.ok)
    toast(
      `${letter.system} #${letter.id}: ${outcome.alreadyApplied ? 'already applied — nothing ran twice' : 'applied'}.`,
      'ok',
    );
  else {
    const why =
      outcome?.error ?? payload?.userErrors?.[0]?.message ?? result.errors[0]?.message ?? 'no answer';
    toast(`${letter.system} #${letter.id}: replay failed — ${why}`, 'bad');
  }
  await refresh(generation);
}

function renderReplaying(key) {
  const row = document.querySelector(`tr[data-dead-letter="${key}"] button`);
  if (row) {
    row.disabled = true;
    row.textContent = 'Replaying…';
  }
}

function renderBacklog(data) {
  const units = data?.backlog ?? [];
  const pending = units.reduce((n, u) => n + u.pendingCount, 0);
  const oldest = Math.max(0, ...units.map((u) => u.oldestPendingAgeSeconds ?? 0));
  const overdue = units.reduce((n, u) => n + u.overdueCount, 0);
  const failed = units.reduce((n, u) => n + u.failedCount, 0);
  const note = [pending ? `oldest ${duration(oldest)}` : null, failed ? `${failed} failed posting(s)` : null]
    .filter(Boolean)
    .join(' · ');
  kpi(
    'kpi-backlog',
    data ? pending : '–',
    overdue || failed ? 'bad' : pending ? 'warn' : 'ok',
    note || 'all acknowledged',
  );
  const rows = units.map((u) => {
    const age = u.oldestPendingAgeSeconds;
    const fraction = age === null ? 0 : Math.min(1, age / (GRACE_MINUTES * 60));
    const bar = h('span', { class: `age-bar${age !== null && age > GRACE_MINUTES * 60 ? ' over' : ''}` });
    bar.append(h('span', { class: 'age-fill' }));
    bar.firstChild.style.width = `${Math.round(fraction * 100)}%`;
    return h(
      'tr',
      { 'data-business-unit': u.businessUnit },
      h('td', {}, u.businessUnit),
      h('td', { class: 'num' }, String(u.pendingCount)),
      h('td', { class: `num${u.overdueCount ? ' bad-text' : ''}` }, String(u.overdueCount)),
      h('td', { class: `num${u.failedCount ? ' bad-text' : ''}` }, String(u.failedCount)),
      h('td', { class: 'age' }, bar, ' ', duration(age)),
    );
  });
  setRows(
    'backlog',
    rows,
    data ? 'Nothing waiting: the ERP acknowledged every document.' : 'Billing did not answer.',
    5,
  );
  const stuck = data?.stuck?.totalCount;
  $('backlog-foot').textContent =
    stuck === undefined || stuck === null
      ? ''
      : `${stuck} amendment(s) not COMPLETED ${GRACE_MINUTES} minutes after billing accepted them.`;
}

/**
 * Usage recorded against usage invoiced, only where they differ (ops/src/reconcile.ts's rule):
 * UNBILLED waits for its invoice (grace, late usage), MISMATCH is leakage or double billing.
 */
function renderUsageReconciliation(data) {
  const micro = (q) => {
    const [whole = '0', fraction = ''] = String(q).split('.');
    return BigInt(whole) * 1000000n + BigInt(fraction.padEnd(6, '0').slice(0, 6));
  };
  const rows = (data?.usageReconciliation ?? []).map((line) => {
    const mismatch = micro(line.recorded) - micro(line.unbilled) !== micro(line.invoiced);
    return h(
      'tr',
      { 'data-usage': mismatch ? 'MISMATCH' : 'UNBILLED' },
      h('td', {}, badge(mismatch ? 'Mismatch' : 'Unbilled', mismatch ? 'step-failed' : 'step-pending')),
      h('td', {}, `${line.subscriptionId} · ${line.period.start} to ${line.period.end} · ${line.metric}`),
      h('td', { class: 'num' }, line.recorded),
      h('td', { class: 'num' }, line.invoiced),
      h('td', { class: 'num' }, line.unbilled),
    );
  });
  setRows(
    'usage-recon',
    rows,
    data ? 'Usage: everything recorded is invoiced.' : 'Billing did not answer the usage reconciliation.',
    5,
  );
}

function renderActivity(data) {
  const slots = minuteSlots(data?.activity ?? []);
  throughputChart($('throughput-chart'), slots);
  lagChart($('lag-chart'), slots);
}

function renderReconciliation(data, failed = false) {
  const tile = $('kpi-recon');
  if (!data || failed) {
    // Keep what the last comparison said, marked stale with its time; '–' if there was none.
    if (state.reconciledAt) {
      tile.className = 'kpi warn';
      tile.dataset.state = 'stale';
      tile.querySelector('.kpi-note').textContent = `stale: last compared ${clockTime(state.reconciledAt)}`;
      $('recon-panel').dataset.state = 'stale';
      $('recon-foot').textContent =
        `Could not compare now; what is shown was compared at ${clockTime(state.reconciledAt)}.`;
    } else {
      kpi('kpi-recon', '–', 'warn', 'not compared yet');
      tile.dataset.state = 'unknown';
      $('recon-panel').dataset.state = 'unknown';
    }
    return;
  }
  if (!data.billing || !data.erp) {
    kpi('kpi-recon', '?', 'warn', `${!data.billing ? 'billing' : 'ERP'} did not answer`);
    tile.dataset.state = 'unknown';
    $('recon-panel').dataset.state = 'unknown';
    $('recon-summary').replaceChildren(
      h('p', { class: 'muted' }, 'A system did not answer; the comparison needs both billing and the ERP.'),
    );
    setRows('recon', [], '—', 4);
    return;
  }
  const buckets = new Map();
  const entry = (row) => {
    const key = [row.currency, row.businessUnit, row.month, row.kind].join(' ');
    if (!buckets.has(key))
      buckets.set(key, { key, currency: row.currency, billing: [0, 0n], erp: [0, 0n], flight: [0, 0n] });
    return buckets.get(key);
  };
  for (const row of data.billing) {
    const b = entry(row);
    b.billing = [b.billing[0] + row.count, b.billing[1] + units(row.total.amount)];
    b.flight = [b.flight[0] + row.inFlightCount, b.flight[1] + units(row.inFlightTotal.amount)];
  }
  for (const row of data.erp) {
    const b = entry(row);
    b.erp = [b.erp[0] + row.count, b.erp[1] + units(row.total.amount)];
  }
  const differing = [...buckets.values()].filter(
    (b) => b.billing[0] !== b.erp[0] || b.billing[1] !== b.erp[1],
  );
  // As `npm run c2c -- reconcile`: a bucket that agrees once billing's documents in flight are left out is backlog.
  for (const b of differing)
    b.inFlightOnly =
      b.flight[0] > 0 && b.billing[0] - b.flight[0] === b.erp[0] && b.billing[1] - b.flight[1] === b.erp[1];
  const real = differing.filter((b) => !b.inFlightOnly);
  const stuck = data.stuck?.totalCount ?? 0;
  const inFlight = differing.length - real.length;
  // The tile says what the panel says, in the same words as `npm run c2c -- reconcile`: buckets
  // that differ, amendments stuck, and buckets only in flight (not a difference).
  const verdict = [real.length ? `${real.length} differ` : null, stuck ? `${stuck} stuck` : null].filter(
    Boolean,
  );
  kpi(
    'kpi-recon',
    verdict.length ? verdict.join(' · ') : 'Agrees',
    verdict.length ? 'bad' : 'ok',
    `${buckets.size} buckets compared${inFlight ? ` · ${inFlight} in flight` : ''}`,
  );
  const state_ = real.length ? 'differs' : stuck ? 'stuck' : 'agrees';
  tile.dataset.state = state_;
  $('recon-panel').dataset.state = state_;
  $('recon-summary').replaceChildren(
    stat(buckets.size, 'buckets compared'),
    stat(real.length, 'differ', real.length ? 'bad' : 'ok'),
    stat(inFlight, 'in flight'),
    stat(stuck, 'stuck amendments', stuck ? 'bad' : 'ok'),
  );
  const rows = differing.map((b) =>
    h(
      'tr',
      { class: b.inFlightOnly ? 'in-flight' : 'differs' },
      h(
        'td',
        {},
        b.key,
        b.inFlightOnly ? h('div', { class: 'muted' }, `${b.flight[0]} in flight, not a difference`) : null,
      ),
      h('td', { class: 'num' }, `${b.billing[0]} · ${money(b.billing[1], b.currency)}`),
      h('td', { class: 'num' }, `${b.erp[0]} · ${money(b.erp[1], b.currency)}`),
      h(
        'td',
        { class: `num${b.inFlightOnly ? '' : ' bad-text'}` },
        money(b.billing[1] - b.erp[1], b.currency),
      ),
    ),
  );
  setRows('recon', rows, 'Billing and the ERP agree on every control total.', 4);
  $('recon-foot').textContent =
    `Control totals by currency, business unit, month and kind, compared ${clockTime(state.reconciledAt)} (every ${RECONCILE_MS / 1000}s). ` +
    'Documents and contract values: npm run c2c -- reconcile.';
}

function stat(value, label, kind = '') {
  return h(
    'div',
    { class: `stat ${kind}` },
    h('span', { class: 'stat-value' }, String(value)),
    h('span', { class: 'stat-label' }, label),
  );
}

function kpi(id, value, kind, note) {
  const tile = $(id);
  tile.className = `kpi ${kind ?? ''}`;
  tile.querySelector('.kpi-value').textContent = String(value);
  let small = tile.querySelector('.kpi-note');
  if (!small) tile.append((small = h('span', { class: 'kpi-note' })));
  small.textContent = note ?? '';
}

let toastTimer = null;
function toast(message, kind) {
  const node = $('toast');
  node.textContent = message;
  node.className = `toast ${kind}`;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.hidden = true;
  }, 6_000);
}

// ---- start -------------------------------------------------------------------------------------

async function start() {
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token').value.trim();
    if (value.split('.').length !== 3) {
      $('sign-in-error').textContent = 'That is not a JWT (three dot-separated parts).';
      show('sign-in-error', true);
      return;
    }
    void signIn(value);
  });
  $('sign-out').addEventListener('click', () => signedOut());
  $('forbidden-sign-out').addEventListener('click', () => signedOut());
  $('pause').addEventListener('click', () => {
    state.paused = !state.paused;
    $('pause').textContent = state.paused ? 'Resume' : 'Pause';
    $('live').classList.toggle('paused', state.paused);
    $('live-text').textContent = state.paused ? 'Paused' : 'Resuming…';
    if (!state.paused) void refresh();
  });
  $('recon-run').addEventListener('click', () => {
    state.reconciledAt = 0;
    void refresh();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && token.get() && !state.paused) void refresh();
  });
  try {
    await loadOperations();
  } catch (error) {
    show('sign-in', true);
    $('sign-in-error').textContent = error.message;
    show('sign-in-error', true);
    return;
  }
  const saved = token.get();
  if (saved) await signIn(saved);
  else signedOut();
}

void start();
