// Acting for someone else: a user whom another account named as a delegate
// (docs/api.md, "Delegates") may switch the app to act for that account. While
// active, the requests of the delegation's scopes (events, invitations) carry
// the Townhall-Acting-As header (api.js) and a banner says so on every page.
// Rooms are never joined for the owner: sockets and rooms stay the user's own.

import { get, setActing } from './api.js';
import { app, emit } from './state.js';

const KEY = 'townhall.acting-as'; // sessionStorage: this tab only

function saved() {
  try {
    const d = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    return d && d.account && d.account.username ? d : null;
  } catch {
    return null;
  }
}

// loadDelegations restores the tab's choice at once (the first page is drawn
// for the right account), then fetches the accounts the user may act for and
// drops the choice if the delegation is gone.
export async function loadDelegations() {
  const want = saved();
  if (want) apply(want);
  try {
    const r = await get('/me/delegations');
    app.delegations = r.delegations || [];
  } catch {
    app.delegations = [];
  }
  emit('delegations', app.delegations);
  const d = want && app.delegations.find((x) => x.account.username === want.account.username);
  if (d) sessionStorage.setItem(KEY, JSON.stringify(d));
  else sessionStorage.removeItem(KEY);
  apply(d || null);
}

// actAs switches the app to act for the account of delegation d; null stops.
export function actAs(d) {
  if (d) sessionStorage.setItem(KEY, JSON.stringify(d));
  else sessionStorage.removeItem(KEY);
  apply(d);
}

function apply(d) {
  const before = app.acting && app.acting.account.username;
  app.acting = d ? { account: d.account, scopes: d.scopes || [] } : null;
  setActing(d ? d.account : null, d ? d.scopes : null);
  if (before !== (app.acting && app.acting.account.username)) emit('acting', app.acting);
}

// actingFor says whether the app acts for someone in scope (events,
// invitations) right now.
export function actingFor(scope) {
  return Boolean(app.acting && app.acting.scopes.includes(scope));
}

// principal is the account the pages of scope are about: the owner while the
// user acts for them in that scope, else the user.
export function principal(scope) {
  return actingFor(scope) ? app.acting.account : app.me;
}

// clearActing forgets the choice (signing out).
export function clearActing() {
  sessionStorage.removeItem(KEY);
  app.delegations = [];
  apply(null);
}
