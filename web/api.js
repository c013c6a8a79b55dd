// The UI's session and HTTP client. Sign-in: automatic (POST /api/v1/auth/local, which the server answers only when it
// listens on loopback and the browser is on the same machine) or email + password (POST /api/v1/auth/login). Tokens live
// in memory and in sessionStorage (this tab only, gone when it closes); never in localStorage, cookies or URLs.
// Renewal: a password session uses POST /api/v1/auth/refresh (rotating refresh token); an automatic one signs in again.

const STORAGE_KEY = 'netra.session';
/** renew this long before the access token expires */
const RENEW_MARGIN_MS = 60_000;

export class ApiError extends Error {
  constructor(status, body) {
    const e = body && typeof body === 'object' && body.error ? body.error : null;
    super(e?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = e?.code ?? null;
    this.field = e?.field ?? null;
  }
}

/** { access_token, refresh_token?, expires_at (epoch ms), mode: 'local' | 'password' } or null */
let session = null;
let renewTimer = null;
let renewing = null;
const listeners = new Set();

/** Called with the session (or null when signed out) whenever it changes. */
export function onSessionChange(fn) {
  listeners.add(fn);
}

export function accessToken() {
  return session?.access_token ?? null;
}
export function sessionMode() {
  return session?.mode ?? null;
}

function setSession(s) {
  session = s;
  clearTimeout(renewTimer);
  if (s) {
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(s));
    } catch {
      /* storage unavailable: memory only */
    }
    const delay = Math.max(5_000, s.expires_at - Date.now() - RENEW_MARGIN_MS);
    renewTimer = setTimeout(() => {
      renew().catch(() => undefined);
    }, delay);
  } else {
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      /* ignore */
    }
  }
  for (const fn of listeners) fn(s);
}

function fromTokenResponse(body, mode) {
  return {
    access_token: body.access_token,
    refresh_token: body.refresh_token ?? null,
    expires_at: Date.now() + (Number(body.expires_in) || 900) * 1000,
    mode,
  };
}

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
    credentials: 'omit',
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

/** The session of this tab when it is still valid, else an automatic sign-in; null when neither works. */
export async function restoreOrAutoSignIn() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null');
    if (saved && typeof saved.access_token === 'string') {
      session = saved;
      if (saved.expires_at - Date.now() < RENEW_MARGIN_MS) await renew();
      else setSession(saved);
      await getJson('/api/v1/me');
      return session;
    }
  } catch {
    session = null;
  }
  try {
    setSession(fromTokenResponse(await post('/api/v1/auth/local'), 'local'));
    return session;
  } catch (err) {
    setSession(null);
    if (err instanceof ApiError && (err.status === 403 || err.status === 404)) return null;
    throw err;
  }
}

export async function login(email, password) {
  setSession(fromTokenResponse(await post('/api/v1/auth/login', { email, password }), 'password'));
  return session;
}

/** A fresh access token: refresh (password sessions) or automatic sign-in again (local sessions). */
export function renew() {
  if (renewing) return renewing;
  const current = session;
  renewing = (async () => {
    if (!current) throw new ApiError(401, null);
    if (current.mode === 'local') setSession(fromTokenResponse(await post('/api/v1/auth/local'), 'local'));
    else if (current.refresh_token)
      setSession(fromTokenResponse(await post('/api/v1/auth/refresh', { refresh_token: current.refresh_token }), 'password'));
    else throw new ApiError(401, null);
    return session;
  })()
    .catch((err) => {
      setSession(null);
      throw err;
    })
    .finally(() => {
      renewing = null;
    });
  return renewing;
}

export async function signOut() {
  const s = session;
  setSession(null);
  if (s?.refresh_token) await post('/api/v1/auth/logout', { refresh_token: s.refresh_token }).catch(() => undefined);
}

/** GET (or another method) a JSON API route with the session's token; one renewal and retry on 401. */
export async function getJson(path, { method = 'GET', body, signal } = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = { authorization: `Bearer ${accessToken() ?? ''}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: 'omit',
    });
    if (res.status === 401 && attempt === 0 && session) {
      await renew();
      continue;
    }
    const json = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, json);
    return json;
  }
}

/** URL of a route with query parameters (undefined/empty values left out). */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
