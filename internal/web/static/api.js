// The HTTP API (docs/api.md) over fetch, with the session cookie. Errors become
// ApiError values carrying the server's stable code and its message in words.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// --- acting for someone else (docs/api.md, "Delegates") -------------------------

// The routes a delegate may use for the owner, and the scope each needs. Every
// other request (the user's own pages, notifications, rooms and their sockets)
// goes as the signed-in user: a delegate never speaks as the owner.
const SCOPED = [
  ['GET|POST', /^\/events$/, 'events'],
  ['GET|PATCH|DELETE', /^\/events\/[^/]+$/, 'events'],
  ['POST', /^\/events\/[^/]+\/start$/, 'events'],
  ['GET|POST', /^\/events\/[^/]+\/invitations$/, 'events'],
  ['GET', /^\/users\/[^/]+\/events$/, 'events'],
  ['GET', /^\/clubs\/[^/]+\/events$/, 'events'],
  ['POST', /^\/events\/[^/]+\/answer$/, 'invitations'],
  ['GET', /^\/invitations(\/[^/]+)?$/, 'invitations'],
  ['POST', /^\/invitations\/[^/]+\/answer$/, 'invitations'],
  ['GET', /^\/me\/event-invitations$/, 'invitations'],
  ['GET', /^\/i(\/[^/]+)?$/, 'invitations'],
  ['PATCH', /^\/i\/[^/]+$/, 'invitations'],
  ['POST', /^\/i\/[^/]+\/(answer|reply)$/, 'invitations'],
];

let acting = null; // {username, scopes: Set} while the user acts for someone

// setActing makes the API calls of the delegate's scopes act for owner
// (an account {username, ...}) with scopes; null stops.
export function setActing(owner, scopes) {
  acting = owner ? { username: owner.username, scopes: new Set(scopes || []) } : null;
}

// actingScope says which scope of the delegation a request uses, or '' when it
// goes as the user themselves.
export function actingScope(method, path) {
  if (!acting) return '';
  const bare = path.split('?')[0];
  for (const [methods, re, scope] of SCOPED) {
    if (methods.split('|').includes(method) && re.test(bare) && acting.scopes.has(scope)) return scope;
  }
  return '';
}

// api calls method on /api/v1 + path with an optional JSON body; it resolves to
// the decoded JSON (null for 204) or rejects with an ApiError. While the user
// acts for someone, the requests of the delegation's scopes carry the
// Townhall-Acting-As header; { self: true } sends one as the user regardless.
// headers adds request headers (an invitation's key).
export async function api(method, path, body, { self = false, headers = {} } = {}) {
  const init = { method, credentials: 'same-origin', headers: { ...headers } };
  if (!self && actingScope(method, path)) init.headers['Townhall-Acting-As'] = acting.username;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, init);
  } catch {
    throw new ApiError(0, 'network', 'Could not reach the server. Check your connection and try again.');
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    let msg = e.message || `The server answered ${res.status}.`;
    if (res.status === 429) {
      const after = res.headers.get('Retry-After');
      msg = after ? `Too many attempts. Try again in ${after} s.` : 'Too many attempts. Try again in a moment.';
    }
    throw new ApiError(res.status, e.code || 'http_' + res.status, sentence(msg));
  }
  return data;
}

// sentence capitalises a server message for display.
export function sentence(s) {
  s = String(s || '');
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b === undefined ? {} : b);
export const put = (p, b) => api('PUT', p, b);
export const patch = (p, b) => api('PATCH', p, b);
export const del = (p) => api('DELETE', p);

// enc escapes one path segment.
export const enc = encodeURIComponent;
