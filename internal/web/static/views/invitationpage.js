// /i/{code}: the page of one invitation to a conversation, which anyone with the
// link may open, signed in or not. It shows who invites, the room (who is on
// stage now, how many listen) or the event (its time in the viewer's zone), the
// message, where the invitation stands and its thread. The invitee answers here:
// without an account, decline or ask (giving a name); signing up (or logging in)
// right here, accept, and land where the invitation says. The inviter replies
// and makes it public.
//
// The key of an invitee's link is in the URL's fragment (#k=...), which browsers
// never send: the page keeps it in this browser (localStorage) and sends it in a
// header. It stays current by polling the page every 2 s while it is shown (15 s
// while the tab is hidden): the server answers 304 to an unchanged page, and any
// node of a cluster answers it from the store. A notification about it on the
// user socket refreshes it at once.

import { h, replace, icon, avatar, plural } from '../dom.js';
import { api, enc, ApiError } from '../api.js';
import { app, on, toast } from '../state.js';
import { field, errorBox, busy } from './ui.js';
import { shareButton } from '../share.js';
import { statusPill, inviteeName, threadList, replyForm } from './thread.js';
import { formatWhen } from '../when.js';

const keyName = (code) => 'townhall.invitation.' + code;

// keyOf returns the key of code's link: from the URL's fragment (then kept, and
// taken out of the address bar), or kept from an earlier visit.
function keyOf(code) {
  const m = /(?:^#|&)k=([A-Za-z0-9_-]{10,100})/.exec(location.hash);
  if (m) {
    try { localStorage.setItem(keyName(code), m[1]); } catch { /* private mode */ }
    history.replaceState(history.state, '', location.pathname + location.search);
    return m[1];
  }
  try { return localStorage.getItem(keyName(code)) || ''; } catch { return ''; }
}

export async function invitationPageView({ params }) {
  const code = params[0];
  const key = keyOf(code);
  const headers = key ? { 'Townhall-Invitation-Key': key } : {};
  const load = () => api('GET', `/i/${enc(code)}`, undefined, { headers });
  let v;
  try {
    v = await load();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return {
        title: 'Invitation',
        el: h('section', { class: 'card narrow center' }, h('h1', null, 'Invitation not available'),
          h('p', null, app.me ? 'This invitation does not exist, or it is not open to you.' : 'This invitation is private: open it with the link you were sent, or log in.'),
          app.me ? h('a', { href: '/', class: 'btn btn-primary' }, 'Go to the hallway') : h('a', { href: '/login?next=' + enc(location.pathname), class: 'btn btn-primary' }, 'Log in')),
      };
    }
    throw e;
  }

  const head = h('div', { class: 'inv-head' });
  const target = h('div', { class: 'inv-target' });
  const actions = h('div', { class: 'inv-actions' });
  const thread = h('div', { class: 'inv-thread', 'aria-live': 'polite' });
  const el = h('section', { class: 'invitation-page', 'data-code': code },
    h('article', { class: 'card invitation-card' }, head, target), actions,
    h('section', { class: 'card' }, h('h2', { class: 'section-title' }, icon('chat', 'tiny'), ' Questions and answers'), thread));
  let last = '';
  let actionsKey = '';

  const answer = (body) => api('POST', `/i/${enc(code)}/answer`, body, { headers });

  const refresh = async () => {
    try {
      v = await load();
    } catch {
      return; // a later poll tries again
    }
    draw();
  };

  const drawHead = () => {
    const to = inviteeName(v);
    replace(head,
      h('p', { class: 'eyebrow' }, 'Invitation ', statusPill(v), v.public ? h('span', { class: 'tag' }, icon('globe', 'tiny'), ' public') : null),
      h('div', { class: 'inv-from' }, avatar(v.from, 'lg'),
        h('h1', { 'data-testid': 'invitation-title' }, v.from.display_name, ' invites ', v.you.side === 'invitee' ? 'you' : to, ' to talk')),
      v.message ? h('blockquote', { class: 'inv-message', 'data-testid': 'invitation-message' }, v.message) : null,
      v.to_stage ? h('p', { class: 'muted small' }, icon('mic', 'tiny'), ' On stage: accepting brings the invitee up to speak.') : null);
  };

  const drawTarget = () => {
    const r = v.room;
    const e = v.event;
    const items = [];
    if (e) {
      items.push(h('p', { class: 'eyebrow' }, icon('calendar', 'tiny'), e.cancelled ? ' Cancelled event' : ' Event'),
        h('h2', { class: 'inv-target-title' }, e.name),
        h('p', { class: 'event-when' }, h('time', { datetime: e.starts_at, 'data-testid': 'event-when' }, formatWhen(e.starts_at, e.time_zone))),
        e.description ? h('p', null, e.description) : null,
        h('p', { class: 'muted small' }, 'Hosted by ', e.host.display_name));
    }
    if (r) {
      const live = r.state === 'live';
      items.push(h('p', { class: 'eyebrow' }, live ? h('span', { class: 'live-dot', 'aria-hidden': 'true' }) : null,
        live ? ' Live now' : r.state === 'ended' ? 'This conversation has ended' : 'Starting soon'),
      e ? null : h('h2', { class: 'inv-target-title', 'data-testid': 'room-title' }, r.title),
      !e && r.description ? h('p', null, r.description) : null,
      live ? h('div', { class: 'inv-stage' },
        h('div', { class: 'avatar-stack', 'aria-hidden': 'true' }, r.stage.slice(0, 5).map((p) => avatar(p, 'md'))),
        h('p', { 'data-testid': 'room-stage' }, 'On stage now: ', r.stage.map((p) => p.display_name).join(', ') || 'nobody'),
        h('p', { class: 'muted', 'data-testid': 'room-listeners' }, plural(r.listener_count, 'listener'))) : null,
      live && (v.you.side !== 'invitee' || v.status === 'accepted') && (app.me || r.allow_guests)
        ? h('a', { href: `/rooms/${enc(r.id)}`, class: 'btn btn-small' }, app.me ? 'Go to the room' : 'Listen as a guest') : null);
    }
    items.push(h('div', { class: 'row wrap' }, v.public ? shareButton(() => ({ url: v.url, title: `${v.from.display_name} invites ${inviteeName(v)} to talk` })) : null));
    replace(target, items);
  };

  const drawActions = () => {
    const k = JSON.stringify([v.you, v.status, v.public, Boolean(app.me), v.to && v.to.id]);
    if (k === actionsKey) return;
    actionsKey = k;
    const can = new Set(v.you.can);
    const err = errorBox();
    const parts = [];
    if (v.expired && v.you.side !== 'reader') parts.push(h('p', { class: 'notice notice-soft' }, 'This invitation has expired: its conversation is over.'));
    if (v.status === 'declined' && v.you.side !== 'reader') parts.push(h('p', { class: 'notice notice-soft' }, 'Declined. It takes no more questions.'));
    if (v.you.side === 'invitee' && v.you.acting) parts.push(h('p', { class: 'notice notice-soft' }, `You answer for ${inviteeName(v)}: your answers show as written for them, by you.`));

    const buttons = [];
    if (can.has('accept')) {
      const accept = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'accept-invitation' }, icon('mic', 'tiny'), 'Accept');
      accept.addEventListener('click', () => busy(accept, async () => {
        const out = await answer({ answer: 'accept' });
        landed(out);
      }, err));
      buttons.push(accept);
    }
    if (can.has('decline')) {
      const decline = h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'decline-invitation' }, 'Decline');
      let armed = false;
      decline.addEventListener('click', () => {
        if (!armed) { armed = true; decline.textContent = 'Decline? Click again'; return; }
        busy(decline, async () => {
          await answer({ answer: 'decline', name: app.me ? '' : (v.to_name || 'The invitee') });
          toast('Declined. They have been told.', 'info', 3000);
          await refresh();
        }, err);
      });
      buttons.push(decline);
    }
    const signedOut = can.has('signup') || can.has('login');
    if (signedOut) parts.push(signupBox(err));
    else if (buttons.length) parts.push(h('div', { class: 'row wrap' }, buttons));
    if (can.has('question')) parts.push(questionForm(err));
    if (signedOut && buttons.length) parts.push(h('div', { class: 'row wrap' }, h('span', { class: 'muted' }, 'Not for you?'), buttons));
    if (v.you.side === 'inviter') {
      if (can.has('reply')) parts.push(h('h2', { class: 'section-title' }, 'Answer'), replyForm(v, refresh));
      if (can.has('publish')) parts.push(publishBox(err));
    }
    parts.push(err.el);
    replace(actions, parts.length > 1 ? h('section', { class: 'card stack' }, parts) : null);
  };

  // landed takes the invitee where an accepted invitation leads.
  const landed = (out) => {
    if (out.room_id) {
      toast(out.to_stage ? 'Accepted: you join on stage, muted.' : 'Accepted: you join the audience.', 'info', 4000);
      app.navigate(`/rooms/${enc(out.room_id)}`, { autojoin: true });
    } else if (out.event_id) {
      toast(out.to_stage ? 'Accepted: you will be on stage when it starts.' : 'Accepted.', 'info', 4000);
      app.navigate(`/events/${enc(out.event_id)}`);
    } else {
      refresh();
    }
  };

  const questionForm = (err) => {
    const name = app.me ? null : field('Who is asking', { name: 'name', maxlength: 50, required: true, value: v.to_name || '', autocomplete: 'name' },
      'Shown with your question. You need no account to ask.');
    const text = field('Your question', { name: 'question', multiline: true, maxlength: 280, rows: 2, required: true, 'data-testid': 'question-text', placeholder: 'What is it about?' });
    const send = h('button', { type: 'submit', class: 'btn' }, 'Ask');
    const form = h('form', { class: 'stack tight question-form', 'aria-label': 'Ask a question' }, h('h2', { class: 'section-title' }, 'Ask a question'), name && name.el, text.el, h('div', { class: 'row' }, send));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      busy(send, async () => {
        await answer({ answer: 'question', text: text.input.value.trim(), name: name ? name.input.value.trim() : '' });
        text.input.value = '';
        toast('Question sent. They have been told.', 'info', 3000);
        await refresh();
      }, err);
    });
    return form;
  };

  const signupBox = (err) => {
    const next = '/login?next=' + enc(location.pathname);
    const username = field('Username', { name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 20, pattern: '[A-Za-z0-9_]{3,20}', autocapitalize: 'none', spellcheck: 'false' });
    const display = field('Your name', { name: 'display_name', autocomplete: 'name', maxlength: 50, value: v.to_name || '' });
    const password = field('Password', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 }, 'At least 8 characters.');
    const go = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'signup-accept' }, 'Sign up and accept');
    const only = h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'signup-only' }, 'Just create my account');
    const form = h('form', { class: 'stack tight', novalidate: true }, username.el, display.el, password.el, h('div', { class: 'row wrap' }, go, only));
    const send = (accept, button) => {
      if (!form.reportValidity()) return;
      busy(button, async () => {
        const res = await api('POST', `/i/${enc(code)}/signup`, {
          username: username.input.value.trim(), display_name: display.input.value.trim(), password: password.input.value, accept,
        }, { headers });
        await app.signIn(res.user);
        if (accept && res.invitation) landed(res.invitation);
        else { actionsKey = ''; await refresh(); }
      }, err);
    };
    form.addEventListener('submit', (e) => { e.preventDefault(); send(true, go); });
    only.addEventListener('click', () => send(false, only));
    return h('div', { class: 'stack tight signup-box' },
      h('h2', { class: 'section-title' }, 'Accept'),
      h('p', { class: 'muted' }, 'To accept, make an account here (it takes a name and a password) or ', h('a', { href: next, 'data-testid': 'login-from-invitation' }, 'log in'), '. You can also decline or ask a question without one.'),
      can(v, 'signup') ? form : null);
  };

  const publishBox = (err) => {
    const box = h('input', { type: 'checkbox', checked: v.public, 'data-testid': 'make-public' });
    box.addEventListener('change', () => {
      api('PATCH', `/i/${enc(code)}`, { public: box.checked })
        .then(() => { toast(box.checked ? 'Public: anyone may read it, on your profile and the room’s page.' : 'Private again.', 'info', 3000); refresh(); })
        .catch((e) => { box.checked = !box.checked; err.show(e.message); });
    });
    return h('label', { class: 'check' }, box, h('span', null, 'Public: anyone may read this invitation and its thread'));
  };

  const draw = () => {
    const k = JSON.stringify(v);
    if (k === last) return;
    last = k;
    drawHead();
    drawTarget();
    drawActions();
    replace(thread, threadList(v));
  };

  draw();
  let timer = 0;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    timer = setTimeout(async () => { await refresh(); tick(); }, document.hidden ? 15000 : 2000);
  };
  tick();
  const off = on('notification', (n) => {
    if (n && n.data && (n.data.code === code || (v.invitation_id && n.data.invitation_id === v.invitation_id))) refresh();
  });
  const offMe = on('me', () => { actionsKey = ''; refresh(); });
  return {
    title: `${v.from.display_name}’s invitation`,
    el,
    destroy() { stopped = true; clearTimeout(timer); off(); offMe(); },
  };
}

function can(v, what) { return v.you.can.includes(what); }
