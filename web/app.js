// The UI's entry point: signs in (automatically on a loopback server, else the email/password form), loads the
// workspaces the user can see (GET /api/v1/workspaces), and switches between the chat and the dashboard.

import { ApiError, getJson, login, onSessionChange, restoreOrAutoSignIn, sessionMode, signOut } from './api.js';
import { createChat } from './chat.js';
import { createDashboard } from './dashboard.js';
import { $, clear, h } from './dom.js';

const WORKSPACE_KEY = 'netra.workspace';

const els = {
  status: $('boot-status'),
  signin: $('view-signin'),
  form: $('signin-form'),
  email: $('signin-email'),
  password: $('signin-password'),
  signinError: $('signin-error'),
  signinWhy: $('signin-why'),
  tabs: $('tabs'),
  session: $('session'),
  workspace: $('workspace'),
  who: $('who'),
  signOut: $('sign-out'),
  tabChat: $('tab-chat'),
  tabDash: $('tab-dashboard'),
  viewChat: $('view-chat'),
  viewDash: $('view-dashboard'),
};

const chat = createChat();
const dashboard = createDashboard();
let signedIn = false;

function showSignIn(why) {
  signedIn = false;
  chat.disconnect();
  dashboard.hide();
  els.status.hidden = true;
  els.tabs.hidden = true;
  els.session.hidden = true;
  els.viewChat.hidden = true;
  els.viewDash.hidden = true;
  els.signin.hidden = false;
  els.signinWhy.textContent = why ?? '';
  els.email.focus();
}

async function enter() {
  signedIn = true;
  els.signin.hidden = true;
  els.status.hidden = false;
  els.status.textContent = 'Loading workspaces…';
  const [me, list] = await Promise.all([getJson('/api/v1/me'), getJson('/api/v1/workspaces')]);
  els.who.textContent = me.kind === 'user' ? (me.user?.email ?? '') : `API key ${me.prefix ?? ''}`;
  els.signOut.hidden = sessionMode() === 'local';
  const names = (list.workspaces ?? []).map((w) => w.name);
  clear(els.workspace);
  for (const w of list.workspaces ?? []) {
    els.workspace.append(h('option', { value: w.name }, `${w.name} (${(w.events ?? 0).toLocaleString('en-US')} events)`));
  }
  if (names.length === 0) {
    els.status.textContent = 'You have no workspace yet: ask an owner to add you, or create one with POST /api/v1/workspaces.';
    return;
  }
  let saved = null;
  try {
    saved = sessionStorage.getItem(WORKSPACE_KEY);
  } catch {
    /* ignore */
  }
  els.workspace.value = saved && names.includes(saved) ? saved : names[0];
  els.status.hidden = true;
  els.tabs.hidden = false;
  els.session.hidden = false;
  selectWorkspace(els.workspace.value);
  select(location.hash === '#dashboard' ? 'dashboard' : 'chat');
}

function selectWorkspace(ws) {
  try {
    sessionStorage.setItem(WORKSPACE_KEY, ws);
  } catch {
    /* ignore */
  }
  chat.connect(ws);
  dashboard.setWorkspace(ws);
}

function select(view) {
  const dash = view === 'dashboard';
  els.viewChat.hidden = dash;
  els.viewDash.hidden = !dash;
  els.tabChat.setAttribute('aria-selected', String(!dash));
  els.tabDash.setAttribute('aria-selected', String(dash));
  els.tabChat.tabIndex = dash ? -1 : 0;
  els.tabDash.tabIndex = dash ? 0 : -1;
  if (dash) dashboard.show();
  else {
    dashboard.hide();
    chat.focus();
  }
  if (location.hash !== `#${view}`) history.replaceState(null, '', `#${view}`);
}

els.tabChat.addEventListener('click', () => select('chat'));
els.tabDash.addEventListener('click', () => select('dashboard'));
els.tabs.addEventListener('keydown', (e) => {
  // arrow keys move between tabs (WAI-ARIA tabs pattern)
  if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
  const next = els.viewChat.hidden ? 'chat' : 'dashboard';
  select(next);
  (next === 'chat' ? els.tabChat : els.tabDash).focus();
});
els.workspace.addEventListener('change', () => selectWorkspace(els.workspace.value));
els.signOut.addEventListener('click', async () => {
  await signOut();
  showSignIn('Signed out.');
});

els.form.addEventListener('submit', async (e) => {
  e.preventDefault();
  els.signinError.textContent = '';
  const email = els.email.value.trim();
  if (!email) {
    els.signinError.textContent = 'Enter your email.';
    els.email.focus();
    return;
  }
  if (!els.password.value) {
    els.signinError.textContent = 'Enter your password.';
    els.password.focus();
    return;
  }
  const button = els.form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    await login(email, els.password.value);
    els.password.value = '';
    await enter();
  } catch (err) {
    els.signinError.textContent = err instanceof ApiError ? err.message : `Sign-in failed: ${err.message ?? err}`;
    els.password.focus();
  } finally {
    button.disabled = false;
  }
});

// a session that ends (refresh refused, token revoked) sends the user back to the form
onSessionChange((s) => {
  if (!s && signedIn) showSignIn('Your session ended: sign in again.');
});

async function boot() {
  try {
    const session = await restoreOrAutoSignIn();
    if (!session) {
      showSignIn('This server does not sign in automatically (it is not listening on loopback, or you are on another machine).');
      return;
    }
    await enter();
  } catch (err) {
    els.status.hidden = false;
    els.status.textContent = `Netra could not start the UI: ${err instanceof Error ? err.message : String(err)}`;
  }
}

boot();
