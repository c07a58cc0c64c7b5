// Inviting people to the conversation in a room: by username with a message
// (POST /api/v1/rooms/{id}/invitations), or, for someone without an account, with
// a link to the invitation's page (link: true), which they open without one.
// Either may be public. The sent list keeps every invitation of the room with
// its thread (GET /api/v1/i), and the inviter answers questions there; answers
// arrive live as invitation_answer notifications on the user socket.

import { h, replace, avatar } from '../dom.js';
import { get, post, enc } from '../api.js';
import { app, on, toast } from '../state.js';
import { field, errorBox, busy, sheet, copyButton } from './ui.js';
import { share } from '../share.js';
import { invitationItem } from './invitations.js';

const ANSWER_WORDS = { accepted: 'accepted', declined: 'declined', question: 'asked a question', pending: 'no answer yet' };

let redraw = null; // the open sheet's reload, if any

// Answers come in wherever the user is in the app: say so, and keep the list.
on('notification', (n) => {
  if (!n || n.kind !== 'invitation_answer' || !n.data) return;
  const d = n.data;
  if (redraw) redraw();
  const who = (d.from && d.from.display_name) || 'Someone';
  const by = d.by && d.by.display_name ? ` (by ${d.by.display_name})` : '';
  toast(d.answer === 'question' ? `${who}${by} asked: “${d.text}”` : `${who}${by} ${ANSWER_WORDS[d.answer] || d.answer} your invitation.`, 'info', 8000);
});

// parseNames splits "ada, @bob cy" into usernames.
function parseNames(s) {
  return [...new Set(s.split(/[\s,]+/).map((x) => x.replace(/^@/, '').trim().toLowerCase()).filter(Boolean))];
}

// inviteSheet opens the invitation form for the room of session s.
export function inviteSheet(s) {
  const roomID = s.id;
  const names = field('Usernames', { name: 'usernames', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', placeholder: 'ada, bob' }, 'Separate names with commas or spaces.');
  const message = field('Message (optional)', { name: 'message', multiline: true, maxlength: 280, rows: 2, placeholder: 'Come talk about…' });
  const publicBox = h('input', { type: 'checkbox', name: 'public', 'data-testid': 'invite-public' });
  const suggestions = h('div', { class: 'chips', 'aria-label': 'People who follow you' });
  const err = errorBox();
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send invitations');
  const linkBox = h('div', { class: 'link-box' });
  const who = field('Their name (optional)', { name: 'invitee_name', maxlength: 50, autocomplete: 'off', placeholder: 'Jane Doe' }, 'Shown on the invitation, and on the room’s page if it is public.');
  const linkBtn = h('button', { type: 'button', class: 'btn' }, 'Create their invitation link');
  const list = h('ul', { class: 'inv-list', 'aria-live': 'polite', 'data-testid': 'sent-list' });

  let shown = '';
  const load = async () => {
    try {
      const r = await get('/i');
      const mine = r.sent.filter((v) => v.room && v.room.id === roomID);
      const k = JSON.stringify(mine.map((v) => [v.code, v.status, v.thread.length, v.expired, v.public]));
      if (k === shown) return;
      shown = k;
      replace(list, mine.length ? mine.map((v) => invitationItem(v, { mine: true, reload: load })) : h('li', { class: 'muted' }, 'Nothing sent from this room yet.'));
    } catch (e) {
      replace(list, h('li', { class: 'form-error' }, e.message));
    }
  };

  const form = h('form', { class: 'stack' }, names.el, suggestions, message.el,
    h('label', { class: 'check' }, publicBox, h('span', null, 'Public: anyone may read it, with its answers, on your profile and this room’s page')),
    err.el, send);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const usernames = parseNames(names.input.value);
    if (usernames.length === 0) { err.show('Enter at least one username.'); names.input.focus(); return; }
    busy(send, async () => {
      const inv = await post(`/rooms/${enc(roomID)}/invitations`, { usernames, message: message.input.value.trim(), public: publicBox.checked });
      names.input.value = '';
      toast(inv.to_stage ? 'Invitations sent. They will come straight on stage, unless a block stands between them and someone on it.' : 'Invitations sent.', 'info', 3000);
      await load();
    }, err);
  });

  linkBtn.addEventListener('click', () => busy(linkBtn, async () => {
    const r = await post(`/rooms/${enc(roomID)}/invitations`, { usernames: [], message: message.input.value.trim(), link: true, name: who.input.value.trim(), public: publicBox.checked });
    const url = r.invitation ? r.invitation.invitee_url : r.link;
    const input = h('input', { type: 'text', readonly: true, value: url, class: 'link-input', 'aria-label': 'Invitation link', 'data-testid': 'invite-link' });
    input.addEventListener('focus', () => input.select());
    replace(linkBox, h('p', { class: 'hint' }, 'Send this link to them alone: with it they see the room and your message, answer or ask without an account, and sign up to accept (once).'),
      h('div', { class: 'row' }, input, copyButton(url), h('button', { type: 'button', class: 'btn btn-small', onclick: () => share(url, 'An invitation to talk') }, 'Share…')),
      r.invitation && r.invitation.public ? h('p', { class: 'muted small' }, 'Its public page, without the key: ', h('a', { href: r.invitation.url.replace(/^https?:\/\/[^/]+/, ''), 'data-testid': 'public-page' }, 'see it as everyone does')) : null);
    await load();
  }, err));

  // Suggest people who follow the user (the ones most likely to come).
  if (app.me) {
    get(`/users/${enc(app.me.username)}/followers?limit=30`).then((r) => {
      replace(suggestions, r.users.map((u) => {
        const chip = h('button', { type: 'button', class: 'chip' }, avatar(u, 'xs'), u.display_name);
        chip.setAttribute('aria-label', `Add ${u.display_name} (@${u.username})`);
        chip.addEventListener('click', () => {
          const cur = parseNames(names.input.value);
          if (!cur.includes(u.username)) names.input.value = [...cur, u.username].join(', ');
          names.input.focus();
        });
        return chip;
      }));
    }).catch(() => {});
  }

  // The list follows the answers: at once on a notification, and every 3 s
  // while the sheet is open (a notification may come before its post is read).
  redraw = () => { load(); };
  load();
  const poll = setInterval(load, 3000);
  sheet('Invite to the conversation', () => [
    form,
    h('h3', { class: 'section-title' }, 'Someone without an account?'), who.el, linkBtn, linkBox,
    h('h3', { class: 'section-title' }, 'Sent'), list,
  ], { onClose: () => { redraw = null; clearInterval(poll); } });
}
