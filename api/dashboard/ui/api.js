// The dashboard's only door to exportd: fetch() on this origin's /v1 routes with the API key from
// sessionStorage (never localStorage, never a cookie: it ends with the browser tab).

const KEY_NAME = 'exportd.api_key';

export class ApiError extends Error {
  constructor(status, problem) {
    const detail = (problem && (problem.detail || problem.title)) || `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.problem = problem || {};
  }

  // "detail" plus the field errors of a 422 ("/filter/depth: unknown field").
  describe() {
    const errors = Array.isArray(this.problem.errors) ? this.problem.errors : [];
    const parts = errors.map((e) => `${e.pointer || ''}: ${e.detail || ''}`);
    return [`${this.message} (${this.status})`, ...parts].join('\n');
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function getKey() {
  return sessionStorage.getItem(KEY_NAME) || '';
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY_NAME, key);
  else sessionStorage.removeItem(KEY_NAME);
}

// request('GET', '/v1/exports', {query: {status: 'Failed'}}) -> {status, headers, data}.
// Throws ApiError for any answer >= 400 (a 401 also calls the unauthorized handler unless
// opts.quiet401), and TypeError when the server cannot be reached.
export async function request(method, path, opts = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(opts.query || {})) {
    if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
    else if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = { Accept: 'application/json, application/problem+json' };
  const key = opts.key !== undefined ? opts.key : getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(url, { method, headers, body, cache: 'no-store', credentials: 'omit' });
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.status >= 400) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !opts.quiet401) onUnauthorized(err);
    throw err;
  }
  return { status: res.status, headers: res.headers, data };
}

export const api = {
  get: (path, query, opts) => request('GET', path, { ...opts, query }),
  post: (path, body, opts) => request('POST', path, { ...opts, body }),
  patch: (path, body) => request('PATCH', path, { body }),
  put: (path, body) => request('PUT', path, { body }),
  del: (path) => request('DELETE', path),
};

// GET /v1/datasets, fetched once per sign-in.
let datasetsPromise = null;
export function datasets() {
  if (!datasetsPromise) {
    datasetsPromise = api.get('/v1/datasets').then((r) => r.data.items);
    datasetsPromise.catch(() => {
      datasetsPromise = null;
    });
  }
  return datasetsPromise;
}

export function forgetCaches() {
  datasetsPromise = null;
}
