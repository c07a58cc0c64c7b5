// The app's shared state: who is signed in, the user socket, the room the user is
// in (which lives on while they browse other pages), and the page-wide notices.

import { h } from './dom.js';

// app is the one state object of the page. Views read it and listen on
// app.events: 'me', 'unread', 'hallway', 'notification', 'room', 'acting'.
export const app = {
  me: null,
  delegations: [], // the accounts the user may act for (GET /me/delegations)
  acting: null, // {account, scopes} while acting for one of them (acting.js)
  unread: 0,
  hallway: null,
  userSocket: null,
  room: null,
  events: new EventTarget(),
  navigate: () => {},
};

// emit tells the views something changed.
export function emit(name, detail) {
  app.events.dispatchEvent(new CustomEvent(name, { detail }));
}

// on listens to an app event and returns the function that stops listening.
export function on(name, f) {
  const g = (e) => f(e.detail);
  app.events.addEventListener(name, g);
  return () => app.events.removeEventListener(name, g);
}

// toast shows a short message (announced politely to screen readers).
export function toast(text, kind = 'info', ms = 5000) {
  const region = toastRegion();
  if (!region) return;
  const close = h('button', { class: 'toast-close', type: 'button', 'aria-label': 'Dismiss' }, '×');
  const t = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, h('span', null, text), close);
  const remove = () => t.remove();
  close.addEventListener('click', remove);
  t.dataset.at = String(Date.now());
  region.appendChild(t);
  while (region.children.length > 3) region.firstElementChild.remove();
  if (ms) setTimeout(remove, ms);
}

// toastRegion is where a toast goes: into the open sheet, if there is one (a
// modal dialog is drawn above the page and makes the rest of it inert, so a
// toast of the page's would be hidden under it and could not be dismissed),
// else the page's own region.
function toastRegion() {
  const sheets = document.querySelectorAll('dialog[open]');
  const dlg = sheets[sheets.length - 1];
  if (!dlg) return document.getElementById('toasts');
  let region = dlg.querySelector(':scope > .toasts');
  if (!region) {
    region = h('div', { class: 'toasts toasts-sheet', 'aria-live': 'polite' });
    dlg.appendChild(region);
  }
  return region;
}

// clearToasts removes the messages about the page the user leaves; one shown
// in the last second (the reason for the move, as "You were signed out") stays.
export function clearToasts() {
  const region = document.getElementById('toasts');
  if (!region) return;
  for (const t of [...region.children]) {
    if (Date.now() - Number(t.dataset.at || 0) > 1000) t.remove();
  }
}

let lastAnnouncement = '';

// announce says text in the page's live region, skipping a repeat of the last one.
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region || text === lastAnnouncement) return;
  lastAnnouncement = text;
  region.textContent = text;
}

// backoff is the wait before reconnection attempt n (0-based): exponential from
// 500 ms, capped, each wait randomized by ±50 % so that the crowd of a restarted
// server, or of a node that died, does not come back all at once.
export function backoff(n, cap = 10000) {
  const base = Math.min(cap, 500 * 2 ** n);
  return Math.round(base * (0.5 + Math.random()));
}
