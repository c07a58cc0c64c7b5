// The HTTP API (docs/api.md) over fetch, with the session cookie. Errors become
// ApiError values carrying the server's stable code and its message in words.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// api calls method on /api/v1 + path with an optional JSON body; it resolves to
// the decoded JSON (null for 204) or rejects with an ApiError.
export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
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
export const put = (p) => api('PUT', p);
export const patch = (p, b) => api('PATCH', p, b);
export const del = (p) => api('DELETE', p);

// enc escapes one path segment.
export const enc = encodeURIComponent;
