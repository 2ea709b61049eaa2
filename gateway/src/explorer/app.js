/* global document, window, sessionStorage, atob */
// The development explorer: GraphiQL (served from this gateway, no CDN) with a bearer token field.
// The token stays in this tab's session storage and goes only to this gateway's /graphql.

const TOKEN_KEY = 'c2c.explorer.token';
const DEFAULT_QUERY = `# Customers and their contract value. Press the run button (or Ctrl+Enter).
query FirstCustomers {
  customers(first: 3) {
    totalCount
    nodes {
      id
      name
      businessUnit
      contractValue { amount currency }
    }
  }
}
`;

const { React, ReactDOM, GraphiQL } = window;
const $ = (id) => document.getElementById(id);

function claimsOf(jwt) {
  try {
    const part = jwt.split('.')[1] ?? '';
    return JSON.parse(
      atob(
        part
          .replace(/-/g, '+')
          .replace(/_/g, '/')
          .padEnd(Math.ceil(part.length / 4) * 4, '='),
      ),
    );
  } catch {
    return null;
  }
}

function showToken(token) {
  const state = $('token-state');
  const claims = token ? claimsOf(token) : null;
  if (!token) {
    state.textContent = 'no token: every request will get 401';
    state.className = 'state';
  } else if (!claims) {
    state.textContent = 'that is not a JWT (three dot-separated parts)';
    state.className = 'state';
  } else {
    const expires = claims.exp ? `, expires ${new Date(claims.exp * 1000).toLocaleTimeString()}` : '';
    state.textContent = `using a token for ${claims.sub ?? '?'} (role ${claims.role ?? '?'}${expires})`;
    state.className = 'state ok';
  }
}

const base = GraphiQL.createFetcher({ url: '/graphql' });
function fetcher(params, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}) };
  // A header typed into GraphiQL's Headers tab wins over the field.
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (name.toLowerCase() === 'authorization') delete headers.authorization;
    headers[name] = value;
  }
  return base(params, { ...options, headers });
}

const root = ReactDOM.createRoot($('graphiql'));
let generation = 0;
function render() {
  // A new key after a new token: GraphiQL fetches the schema again with it.
  root.render(
    React.createElement(GraphiQL, {
      key: String(generation++),
      fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
    }),
  );
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token')
    .value.trim()
    .replace(/^Bearer\s+/i, '');
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  showToken(token);
  render();
});
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) $('token').value = saved;
else $('help').open = true;
showToken(saved);
render();
