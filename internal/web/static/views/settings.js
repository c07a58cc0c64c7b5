// /settings: which notifications the user hears, their delegates (who may act
// for them, with which scopes), the audit log of what delegates did, and the
// accounts the user may act for.

import { h, replace, avatar, timeAgo, icon } from '../dom.js';
import { get, put, post, del, enc } from '../api.js';
import { app, toast, on } from '../state.js';
import { actAs } from '../acting.js';
import { field, errorBox, busy } from './ui.js';
import { photoSection, passwordSection, emailSection, sessionsSection, deleteSection } from './account.js';

// KIND_WORDS names the notification kinds (docs/api.md, "Notifications").
export const KIND_WORDS = {
  invitation: 'Invitations to a conversation',
  invitation_answer: 'Answers to your invitations',
  ping: 'Pings into a room',
  new_follower: 'New followers',
  made_moderator: 'Being made a moderator',
  event_invitation: 'Invitations to events',
  event_invitation_answer: 'Answers to your event invitations',
  event_reminder: 'Reminders before events start',
  event_live: 'Events going live',
  event_updated: 'Changes to events',
  event_cancelled: 'Cancelled events',
  club_request: 'Requests to join your clubs',
  club_request_decided: 'Answers to your club requests',
  invitation_reply: 'Answers to your questions about an invitation',
  speaking: 'Someone you follow is speaking',
};

// DEFAULT_PUSH are the kinds pushed to a device when it is turned on and none
// were chosen yet.
const DEFAULT_PUSH = ['invitation', 'invitation_answer', 'invitation_reply', 'speaking', 'event_reminder'];

// base64ToBytes reads a base64url key (the server's VAPID key).
function base64ToBytes(s) {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

// pushSection turns Web Push on and off on this device, and chooses the kinds
// pushed (muted kinds are never pushed: they are dropped before).
function pushSection() {
  const box = h('section', { class: 'card settings-section', 'aria-labelledby': 'push-h', 'data-testid': 'push-settings' });
  const title = h('h2', { id: 'push-h' }, 'On this device, with the app closed');
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) {
    replace(box, title, h('p', { class: 'muted' }, 'This browser cannot receive notifications while the app is closed.'));
    return box;
  }
  const err = errorBox();
  const state = h('p', { class: 'muted', 'data-testid': 'push-state' }, 'Checking…');
  const toggle = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'push-toggle', disabled: true }, 'Turn on');
  const kindsBox = h('fieldset', { class: 'stack tight' }, h('legend', null, 'Send me'));
  const save = h('button', { type: 'button', class: 'btn' }, 'Save what is pushed');
  let settings = null;
  let sub = null;
  const drawKinds = () => {
    const on = new Set(settings.kinds);
    replace(kindsBox, h('legend', null, 'Send me'), settings.all.map((k) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: k, checked: on.has(k), 'data-push-kind': k }), h('span', null, KIND_WORDS[k] || k))));
  };
  const drawState = () => {
    const denied = typeof Notification !== 'undefined' && Notification.permission === 'denied';
    state.textContent = denied ? 'Notifications are blocked for this site in your browser settings.'
      : sub ? 'On: this device gets the kinds below even when the app is closed.' : 'Off on this device.';
    toggle.textContent = sub ? 'Turn off' : 'Turn on';
    toggle.disabled = denied && !sub;
  };
  const load = async () => {
    settings = await get('/push');
    const reg = await navigator.serviceWorker.register('/sw.js');
    sub = await reg.pushManager.getSubscription();
    drawKinds();
    drawState();
  };
  toggle.addEventListener('click', () => busy(toggle, async () => {
    const reg = await navigator.serviceWorker.ready;
    if (sub) {
      const endpoint = sub.endpoint;
      await sub.unsubscribe().catch(() => {});
      await post('/push/unsubscribe', { endpoint });
      sub = null;
    } else {
      if (typeof Notification !== 'undefined' && Notification.permission !== 'granted') {
        const p = await Notification.requestPermission();
        if (p !== 'granted') throw new Error('Your browser did not allow notifications.');
      }
      sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64ToBytes(settings.public_key) });
      await post('/push/subscriptions', sub.toJSON());
      if (settings.kinds.length === 0) {
        settings = await put('/push/kinds', { kinds: DEFAULT_PUSH.filter((k) => settings.all.includes(k)) });
        drawKinds();
      }
    }
    drawState();
  }, err));
  save.addEventListener('click', () => busy(save, async () => {
    const kinds = [...kindsBox.querySelectorAll('input[data-push-kind]')].filter((i) => i.checked).map((i) => i.value);
    settings = await put('/push/kinds', { kinds });
    toast('Push settings saved.', 'info', 2000);
  }, err));
  replace(box, title, state, h('div', { class: 'row' }, toggle), kindsBox, h('div', { class: 'row' }, save), err.el);
  load().catch((e) => { state.textContent = ''; err.show(e.message); });
  return box;
}

const SCOPES = [
  ['events', 'Events', 'schedule, edit, cancel, start and invite to your events'],
  ['invitations', 'Invitations', 'read and answer your invitations'],
  ['rooms', 'Rooms', 'moderate your rooms, speaking as themselves'],
];

function scopeBoxes(current = []) {
  const boxes = SCOPES.map(([v, label, hint]) => {
    const input = h('input', { type: 'checkbox', value: v, checked: current.includes(v) });
    return { input, el: h('label', { class: 'check' }, input, h('span', null, h('strong', null, label), ' — ', h('span', { class: 'muted' }, hint))) };
  });
  return { boxes, values: () => boxes.filter((b) => b.input.checked).map((b) => b.input.value) };
}

function notificationSection() {
  const box = h('section', { class: 'card settings-section', 'aria-labelledby': 'notif-h' }, h('h2', { id: 'notif-h' }, 'Notifications'), h('p', { class: 'muted' }, 'Loading…'));
  get('/notifications/settings').then((s) => {
    const muted = new Set(s.muted || []);
    const inputs = (s.kinds || []).map((k) => {
      const input = h('input', { type: 'checkbox', value: k, checked: !muted.has(k), 'data-kind': k });
      return { input, el: h('label', { class: 'check' }, input, h('span', null, KIND_WORDS[k] || k)) };
    });
    const err = errorBox();
    const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save');
    const form = h('form', { class: 'stack' },
      h('fieldset', { class: 'stack tight' }, h('legend', null, 'Tell me about'), inputs.map((i) => i.el)), err.el, h('div', { class: 'row' }, save));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(save, async () => {
        await put('/notifications/settings', { muted: inputs.filter((i) => !i.input.checked).map((i) => i.input.value) });
        toast('Notification settings saved.', 'info', 2500);
      }, err);
    });
    replace(box, h('h2', { id: 'notif-h' }, 'Notifications'), h('p', { class: 'muted' }, 'Unticked kinds are dropped: what caused them still happens.'), form);
  }).catch((e) => replace(box, h('h2', { id: 'notif-h' }, 'Notifications'), h('p', { class: 'form-error' }, e.message)));
  return box;
}

function delegatesSection(onChange) {
  const box = h('section', { class: 'card settings-section', 'aria-labelledby': 'del-h' });
  const list = h('ul', { class: 'member-list' });
  const load = async () => {
    try {
      const r = await get('/me/delegates');
      replace(list, r.delegates.length === 0 ? h('li', { class: 'muted' }, 'Nobody acts for you.')
        : r.delegates.map((d) => delegateRow(d, load, onChange)));
    } catch (e) {
      replace(list, h('li', { class: 'form-error' }, e.message));
    }
  };
  const name = field('Username', { name: 'username', autocapitalize: 'none', spellcheck: 'false', required: true, placeholder: 'who acts for you' });
  const scopes = scopeBoxes(['events', 'invitations']);
  const err = errorBox();
  const add = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Name delegate');
  const form = h('form', { class: 'stack', 'aria-label': 'Name a delegate' }, name.el,
    h('fieldset', { class: 'stack tight' }, h('legend', null, 'They may'), scopes.boxes.map((b) => b.el)), err.el, h('div', { class: 'row' }, add));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    busy(add, async () => {
      const s = scopes.values();
      if (s.length === 0) throw new Error('Choose at least one thing they may do.');
      const u = name.input.value.trim().replace(/^@/, '').toLowerCase();
      await put(`/me/delegates/${enc(u)}`, { scopes: s });
      name.input.value = '';
      toast(`@${u} may act for you now.`, 'info', 3000);
      await load();
      onChange();
    }, err);
  });
  load();
  replace(box, h('h2', { id: 'del-h' }, 'Delegates'),
    h('p', { class: 'muted' }, 'People who may act for your account from their own, never with your password. They speak in rooms only as themselves. Everything they change is in the audit log below.'),
    list, h('hr'), form);
  return box;
}

function delegateRow(d, reload, onChange) {
  const scopes = scopeBoxes(d.scopes);
  const err = errorBox();
  const save = h('button', { type: 'button', class: 'btn btn-small' }, 'Save scopes');
  save.addEventListener('click', () => busy(save, async () => {
    const s = scopes.values();
    if (s.length === 0) throw new Error('Choose at least one scope, or revoke.');
    await put(`/me/delegates/${enc(d.user.username)}`, { scopes: s });
    toast('Saved.', 'info', 2000);
  }, err));
  const revoke = h('button', { type: 'button', class: 'btn btn-small btn-ghost danger-text', 'data-testid': 'revoke-delegate' }, 'Revoke');
  let armed = false;
  revoke.addEventListener('click', () => {
    if (!armed) { armed = true; revoke.textContent = 'Really revoke? At once.'; return; }
    busy(revoke, async () => { await del(`/me/delegates/${enc(d.user.username)}`); toast('Revoked.', 'info', 2000); await reload(); onChange(); }, err);
  });
  return h('li', { class: 'delegate-row', 'data-username': d.user.username },
    h('div', { class: 'sent-row' }, avatar(d.user, 'sm'), h('a', { href: `/u/${enc(d.user.username)}`, class: 'sent-name' }, d.user.display_name),
      h('span', { class: 'muted' }, '@' + d.user.username)),
    h('fieldset', { class: 'stack tight', 'aria-label': `What @${d.user.username} may do` }, scopes.boxes.map((b) => b.el)),
    h('div', { class: 'row wrap' }, save, revoke), err.el);
}

function auditSection() {
  const box = h('section', { class: 'card settings-section', 'aria-labelledby': 'audit-h' });
  const list = h('ul', { class: 'audit-list' });
  const more = h('button', { type: 'button', class: 'btn btn-small', hidden: true }, 'Older entries');
  let before = '';
  const load = async () => {
    try {
      const r = await get('/me/audit?limit=50' + (before ? '&before=' + enc(before) : ''));
      const entries = r.entries || [];
      if (!before && entries.length === 0) replace(list, h('li', { class: 'muted' }, 'Your delegates have not changed anything.'));
      else list.append(...entries.map((e) => h('li', { class: 'audit-row' },
        avatar(e.delegate, 'xs'), h('span', null, h('strong', null, e.delegate.display_name), ' ', h('code', null, e.action)),
        h('time', { datetime: e.at, class: 'muted small' }, timeAgo(e.at)))));
      before = entries.length ? entries[entries.length - 1].id : before;
      more.hidden = entries.length < 50;
    } catch (e) {
      replace(list, h('li', { class: 'form-error' }, e.message));
    }
  };
  more.addEventListener('click', () => busy(more, load));
  load();
  replace(box, h('h2', { id: 'audit-h' }, 'Audit log'), h('p', { class: 'muted' }, 'What your delegates did for you, newest first.'), list, more);
  return box;
}

function delegationsSection() {
  const box = h('section', { class: 'card settings-section', 'aria-labelledby': 'dlg-h' });
  const draw = () => {
    if (app.delegations.length === 0) {
      replace(box, h('h2', { id: 'dlg-h' }, 'Accounts you act for'), h('p', { class: 'muted' }, 'Nobody named you their delegate.'));
      return;
    }
    replace(box, h('h2', { id: 'dlg-h' }, 'Accounts you act for'),
      h('ul', { class: 'member-list' }, app.delegations.map((d) => {
        const current = app.acting && app.acting.account.username === d.account.username;
        const b = h('button', { type: 'button', class: current ? 'btn btn-small' : 'btn btn-small btn-primary' }, current ? 'Stop acting' : `Act as @${d.account.username}`);
        b.addEventListener('click', () => actAs(current ? null : d));
        return h('li', { class: 'sent-row' }, avatar(d.account, 'sm'), h('span', { class: 'sent-name' }, d.account.display_name),
          h('span', { class: 'muted small' }, (d.scopes || []).join(', ')), b);
      })));
  };
  draw();
  return { el: box, draw };
}

export async function settingsView() {
  const dlg = delegationsSection();
  const offs = [on('delegations', dlg.draw), on('acting', dlg.draw)];
  const sessions = sessionsSection();
  const el = h('section', { class: 'settings' },
      h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Settings'), h('p', { class: 'muted' }, icon('gear', 'tiny'), ` Signed in as @${app.me.username}.`))),
      photoSection(), passwordSection(), emailSection(), sessions,
      notificationSection(), delegatesSection(() => {}), auditSection(), dlg.el, pushSection(), deleteSection());
  el.addEventListener('changed', () => sessions.dispatchEvent(new Event('refresh'))); // a new password signed the others out
  return { title: 'Settings', destroy: () => offs.forEach((f) => f()), el };
}
