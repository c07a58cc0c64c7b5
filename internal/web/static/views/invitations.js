// /invitations: every invitation the user sent and received, with where each
// stands and its whole thread (the sent list keeps the message and every
// answer); and the "Invite friends" sheet of the header.

import { h, replace, avatar } from '../dom.js';
import { get, post, enc } from '../api.js';
import { app, on } from '../state.js';
import { sheet, copyButton, busy, errorBox } from './ui.js';
import { share } from '../share.js';
import { statusPill, inviteeName, threadList, replyForm, targetTitle } from './thread.js';

// invitationItem draws one invitation of a list, with its thread; mine adds the
// reply box of the inviter's side.
export function invitationItem(v, { mine, reload }) {
  return h('li', { class: 'card inv-item', 'data-code': v.code, 'data-testid': 'sent-invitation' },
    h('div', { class: 'sent-row' }, avatar(mine ? (v.to || { display_name: inviteeName(v) }) : v.from, 'sm'),
      h('span', { class: 'sent-name' }, mine ? inviteeName(v) : v.from.display_name), statusPill(v),
      v.public ? h('span', { class: 'tag' }, 'public') : null,
      h('a', { href: `/i/${enc(v.code)}`, class: 'btn btn-small btn-ghost' }, 'Open')),
    h('p', { class: 'muted small' }, 'To ', h('strong', null, targetTitle(v))),
    v.message ? h('blockquote', { class: 'inv-message' }, v.message) : null,
    threadList(v),
    mine && v.you.can.includes('reply') && (v.thread || []).some((p) => p.side === 'invitee') ? replyForm(v, reload) : null);
}

export async function invitationsView() {
  const sent = h('ul', { class: 'inv-list' });
  const received = h('ul', { class: 'inv-list' });
  const load = async () => {
    const r = await get('/i');
    replace(sent, r.sent.length ? r.sent.map((v) => invitationItem(v, { mine: true, reload: load })) : h('li', { class: 'muted' }, 'You have not invited anyone yet.'));
    replace(received, r.received.length ? r.received.map((v) => invitationItem(v, { mine: false, reload: load })) : h('li', { class: 'muted' }, 'No invitations yet.'));
  };
  await load();
  const off = on('notification', (n) => { if (n && /^invitation/.test(n.kind)) load().catch(() => {}); });
  const poll = setInterval(() => { if (!document.querySelector('.reply-form textarea:focus')) load().catch(() => {}); }, 5000);
  return {
    title: 'Invitations',
    destroy: () => { off(); clearInterval(poll); },
    el: h('section', { class: 'invitations' },
      h('div', { class: 'page-head' }, h('h1', null, 'Invitations')),
      h('h2', { class: 'section-title' }, 'Sent'), sent,
      h('h2', { class: 'section-title' }, 'Received'), received),
  };
}

// inviteFriendsSheet makes a link that lets one person make an account, to send
// to a friend: shared with the phone's share sheet, or copied.
export function inviteFriendsSheet() {
  if (!app.me) return;
  const err = errorBox();
  const make = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'make-invite' }, 'Make an invite link');
  const box = h('div', { class: 'stack tight' });
  make.addEventListener('click', () => busy(make, async () => {
    const inv = await post('/invites');
    const input = h('input', { type: 'text', readonly: true, value: inv.url, class: 'link-input', 'aria-label': 'Invite link', 'data-testid': 'friend-link' });
    input.addEventListener('focus', () => input.select());
    replace(box, h('p', { class: 'hint' }, 'It works once, for one person, for a week.'),
      h('div', { class: 'row' }, input, copyButton(inv.url)),
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => share(inv.url, `Join me on ${document.getElementById('app').dataset.name || 'townhall'}`) }, 'Share…'));
  }, err));
  sheet('Invite friends', () => [
    h('p', null, 'Bring a friend: an invite link lets one person make an account.'),
    make, box, err.el,
    h('p', { class: 'muted small' }, 'To invite someone to a conversation, use Invite in the room: they can answer without an account.'),
  ]);
}
