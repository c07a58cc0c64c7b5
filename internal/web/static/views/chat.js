// The room's chat, beside the stage (a side column on wide screens, a tab on
// phones): the messages as text, their links made safe, the composer with the
// server's limits, earlier pages on request, and per-message actions (delete and
// mute for moderators, report for everyone signed in).

import { h, replace, icon, avatar, timeAgo } from '../dom.js';
import { enc } from '../api.js';
import { app, toast } from '../state.js';
import { field, counted, errorBox, busy, sheet } from './ui.js';
import { reportSheet } from './report.js';

// MAX is the longest message, in characters as the server counts them
// (internal/room MaxChatRunes).
const MAX = 500;

// KEEP is how many messages the panel keeps while the user reads the end of
// the chat; it lets SLACK more come before it drops the oldest.
const KEEP = 200;
const SLACK = 100;

// MODES say who may write, as the snapshot's chat_mode names it.
const MODES = {
  off: 'The chat is off',
  speakers: 'The people on stage can write',
  everyone: 'Everyone signed in can write',
};

// LINK finds the http(s) links of a message. TRAIL is punctuation that ends a
// sentence rather than the link before it.
const LINK = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAIL = /[.,;:!?'"\]}]+$/;

// safeLink is a link to url that opens in a new tab, passes no referrer and no
// hold on this page, and earns the target nothing from search engines; null
// unless url is an absolute http or https URL without credentials.
export function safeLink(url, text = url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password) return null;
  return h('a', { href: u.href, target: '_blank', rel: 'noopener noreferrer nofollow', class: 'ext-link' }, text);
}

// linkify appends text to el as text nodes, its links as safe links.
export function linkify(el, text) {
  let last = 0;
  for (const m of text.matchAll(LINK)) {
    let url = m[0].replace(TRAIL, '');
    // A closing parenthesis belongs to the link only when it opened one.
    while (url.endsWith(')') && (url.match(/\(/g) || []).length < (url.match(/\)/g) || []).length) url = url.slice(0, -1);
    const a = safeLink(url);
    if (!a) continue;
    el.append(text.slice(last, m.index), a);
    last = m.index + url.length;
  }
  el.append(text.slice(last));
  return el;
}

// chatPanel draws the chat of session s. onNew(n) hears of n new messages
// while the panel is out of sight (a phone showing the stage).
export function chatPanel(s, { onNew } = {}) {
  const list = h('ol', { class: 'chat-list', role: 'log', 'aria-label': 'Chat messages', 'data-testid': 'chat-list' });
  const earlier = h('button', { type: 'button', class: 'btn btn-small btn-ghost chat-earlier', 'data-testid': 'chat-earlier' }, 'Load earlier messages');
  const start = h('p', { class: 'muted small chat-start', hidden: true }, 'This is the start of the chat.');
  const empty = h('p', { class: 'muted chat-empty', 'data-testid': 'chat-empty' }, 'No messages yet.');
  const scroller = h('div', { class: 'chat-scroll' }, earlier, start, list, empty);
  const mode = h('p', { class: 'chat-mode', 'data-testid': 'chat-mode' });
  const f = counted(field('Message', { multiline: true, rows: 2, name: 'chat', placeholder: 'Say something to the room', autocomplete: 'off', 'data-testid': 'chat-input' }), MAX);
  const send = h('button', { type: 'submit', class: 'btn btn-primary btn-small', 'data-testid': 'chat-send' }, 'Send');
  const why = h('p', { class: 'chat-why', id: `chat-why-${s.id}`, 'data-testid': 'chat-why', hidden: true });
  const err = errorBox();
  err.el.dataset.testid = 'chat-error';
  const form = h('form', { class: 'chat-composer', 'aria-label': 'Write in the chat', 'data-testid': 'chat-composer' },
    f.el, h('div', { class: 'chat-send-row' }, why, send), err.el);
  f.input.setAttribute('aria-describedby', why.id);
  // Messages that come while the user reads further up do not pull them down:
  // a button says they came, and takes them there.
  const newer = h('button', { type: 'button', class: 'chat-newer', hidden: true, 'data-testid': 'chat-newer' }, icon('down', 'tiny'), 'New messages');
  const el = h('section', { class: 'chat-panel', 'aria-labelledby': `chat-h-${s.id}`, 'data-testid': 'chat' },
    h('div', { class: 'chat-head' }, h('h2', { id: `chat-h-${s.id}`, class: 'chat-title' }, icon('chat'), 'Chat'), mode),
    h('div', { class: 'chat-view' }, scroller, newer), form);

  const shown = new Map(); // message ID → its <li>
  let modKey = null;
  let whyKey = null;
  let tick = 0;
  const visible = () => el.getClientRects().length > 0;
  const nearEnd = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
  const toEnd = () => { scroller.scrollTop = scroller.scrollHeight; newer.hidden = true; };
  newer.addEventListener('click', toEnd);
  scroller.addEventListener('scroll', () => { if (!newer.hidden && nearEnd()) newer.hidden = true; }, { passive: true });

  // --- the messages ---------------------------------------------------------
  const personOf = (m) => (s.room && (s.stageEntry(m.user_id) || s.listener(m.user_id))) || { id: m.user_id, display_name: m.name };

  const item = (m) => {
    const mine = Boolean(s.you && m.user_id === s.you.id);
    const time = h('time', { class: 'chat-time', datetime: m.at, title: new Date(m.at).toLocaleString(), 'data-at': m.at }, timeAgo(m.at));
    const more = !s.guest && (s.isModerator || !mine)
      ? h('button', { type: 'button', class: 'icon-btn chat-more', 'aria-label': `Actions for ${m.name}’s message`, 'data-testid': 'chat-actions' }, icon('more'))
      : null;
    if (more) more.addEventListener('click', () => actions(m));
    return h('li', { class: ['chat-msg', mine && 'is-mine'], 'data-message-id': m.id, 'data-author': m.user_id, 'data-testid': 'chat-message' },
      avatar(personOf(m), 'sm'),
      h('div', { class: 'chat-body' },
        h('p', { class: 'chat-meta' }, h('strong', { class: 'chat-name' }, m.name), time),
        linkify(h('p', { class: 'chat-text', 'data-testid': 'chat-text' }), m.text)),
      more);
  };

  // sync makes the list show the session's messages, in order, moving and
  // making as few elements as it can (a busy chat must not redraw itself).
  const sync = () => {
    const msgs = (s.room && s.room.chat) || [];
    const mk = JSON.stringify([s.isModerator, s.guest, s.you && s.you.id]);
    if (mk !== modKey) { // who may act on what changed: draw them all anew
      modKey = mk;
      shown.clear();
      replace(list);
    }
    const keep = new Set(msgs.map((m) => m.id));
    for (const [id, li] of shown) if (!keep.has(id)) { li.remove(); shown.delete(id); }
    let prev = null;
    let added = 0;
    for (const m of msgs) {
      let li = shown.get(m.id);
      if (!li) { li = item(m); shown.set(m.id, li); added++; }
      const want = prev ? prev.nextSibling : list.firstChild;
      if (want !== li) list.insertBefore(li, want);
      prev = li;
    }
    empty.hidden = msgs.length > 0;
    earlier.hidden = msgs.length === 0 || s.chatStart;
    start.hidden = !s.chatStart;
    return added;
  };

  const update = (what) => {
    if (!s.room) return;
    const stick = nearEnd(); // true too while the panel is out of sight
    if (stick && what !== 'chat-history' && s.room.chat.length > KEEP + SLACK) s.trimChat(KEEP);
    const before = scroller.scrollHeight;
    const added = sync();
    if (what === 'chat-history') scroller.scrollTop += scroller.scrollHeight - before; // keep what the user reads in place
    else if (stick || what === 'snapshot') toEnd();
    else if (added > 0 && what === 'chat') newer.hidden = false;
    if (added > 0 && what === 'chat' && onNew && !visible()) onNew(added);
    const slow = s.room.slow_seconds ? ` · slow mode: one message every ${s.room.slow_seconds < 60 ? s.room.slow_seconds + ' s' : s.room.slow_seconds / 60 + ' min'}` : '';
    mode.textContent = (MODES[s.room.chat_mode] || '') + slow;
    composer();
  };

  earlier.addEventListener('click', () => busy(earlier, async () => {
    const n = await s.loadEarlier();
    if (n === 0 && !s.chatStart) toast('No earlier messages to show.', 'info', 2500);
  }).catch((e) => toast(e.message, 'error')));

  // --- the composer -----------------------------------------------------------
  // composer enables the form when the user may write, and says why not when
  // they may not; the slow mode counts down.
  const composer = () => {
    const no = s.cannotWrite();
    const k = no ? no.text : '';
    clearTimeout(tick);
    if (no && no.key === 'slow') tick = setTimeout(composer, 1000);
    if (k === whyKey) return;
    whyKey = k;
    f.input.disabled = Boolean(no);
    send.disabled = Boolean(no);
    form.dataset.state = no ? no.key : 'open';
    why.hidden = !no;
    if (!no) { replace(why); return; }
    if (no.key === 'guest') {
      replace(why, 'Guests can read the chat. ', h('a', { href: '/login?next=' + enc(`/rooms/${s.id}`) }, 'Log in'), ' to write.');
    } else {
      replace(why, no.text);
    }
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = f.input.value;
    if (!text.trim()) { f.input.focus(); return; }
    if (!form.reportValidity()) return;
    busy(send, async () => {
      await s.postChat(text);
      f.input.value = '';
      f.input.dispatchEvent(new Event('input'));
      toEnd();
    }, err).then(() => { whyKey = null; composer(); });
  });
  f.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  f.input.addEventListener('input', () => err.clear());

  // --- a message's actions ------------------------------------------------------
  const actions = (m) => {
    const mine = Boolean(s.you && m.user_id === s.you.id);
    const err = errorBox();
    sheet(`${m.name}’s message`, (close) => {
      const act = (label, type, fields, done, cls = '') => {
        const b = h('button', { type: 'button', class: 'menu-item ' + cls }, label);
        b.addEventListener('click', () => busy(b, async () => {
          await s.send(type, fields);
          close();
          if (done) toast(done, 'info', 3000);
        }, err));
        return b;
      };
      const items = [];
      if (s.isModerator) {
        items.push(act('Delete this message', 'delete_chat', { message_id: m.id }, '', 'danger'));
        if (!mine) {
          const muted = (s.room.chat_muted || []).includes(m.user_id);
          items.push(muted
            ? act(`Let ${m.name} write again`, 'chat_mute', { target: m.user_id, muted: false }, `${m.name} can write in the chat again.`)
            : act(`Mute ${m.name} in the chat`, 'chat_mute', { target: m.user_id, muted: true }, `${m.name} can no longer write in the chat.`));
        }
      }
      const p = personOf(m);
      if (p.username && app.me) items.push(h('a', { href: `/u/${enc(p.username)}`, class: 'menu-item', onclick: close }, 'View profile'));
      if (app.me && !s.guest && !mine) {
        const b = h('button', { type: 'button', class: 'menu-item danger', 'data-testid': 'report-message' }, 'Report this message');
        b.addEventListener('click', () => { close(); reportSheet('message', m.id, `${m.name}’s message`); });
        items.push(b);
      }
      if (items.length === 0) items.push(h('p', { class: 'menu-note' }, 'Your message.'));
      return [linkify(h('blockquote', { class: 'chat-quote' }), m.text),
        h('div', { class: 'menu', role: 'group', 'aria-label': 'Actions' }, items), err.el];
    });
  };

  // Relative times stay true while the page is open.
  const clock = setInterval(() => {
    for (const t of list.querySelectorAll('time[data-at]')) t.textContent = timeAgo(t.dataset.at);
  }, 30000);

  update('snapshot');
  return {
    el,
    update,
    scrollToEnd: toEnd,
    destroy() { clearInterval(clock); clearTimeout(tick); },
  };
}
