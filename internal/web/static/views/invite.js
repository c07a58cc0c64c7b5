// Inviting people to the conversation in a room: by username with a message
// (POST /api/v1/rooms/{id}/invitations), or with a sign-up link for someone who
// has no account (link: true). Answers arrive live as invitation_answer
// notifications on the user socket.

import { h, replace, avatar } from '../dom.js';
import { get, post, enc } from '../api.js';
import { app, on, toast } from '../state.js';
import { field, errorBox, busy, sheet, copyButton } from './ui.js';

const ANSWER_WORDS = { accepted: 'accepted', declined: 'declined', question: 'asked a question', pending: 'no answer yet' };

// sent: invitations this page sent, by room ID: [{id, recipients: [{user, status, text}]}].
const sent = new Map();
let redraw = null; // the open sheet's redraw, if any

// recordAnswer notes an answer to one of the user's invitations.
export function recordAnswer(d) {
  for (const inv of sent.get(d.room_id) || []) {
    if (inv.id !== d.invitation_id) continue;
    for (const r of inv.recipients) {
      if (r.user.id === d.from.id) { r.status = d.answer; r.text = d.text || ''; }
    }
  }
  if (redraw) redraw();
}

// Answers come in wherever the user is in the app: say so, and keep the list.
on('notification', (n) => {
  if (!n || n.kind !== 'invitation_answer' || !n.data) return;
  const d = n.data;
  recordAnswer(d);
  const who = (d.from && d.from.display_name) || 'Someone';
  toast(d.answer === 'question' ? `${who} asked: “${d.text}”` : `${who} ${ANSWER_WORDS[d.answer] || d.answer} your invitation.`, 'info', 8000);
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
  const suggestions = h('div', { class: 'chips', 'aria-label': 'People who follow you' });
  const err = errorBox();
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send invitations');
  const linkBox = h('div', { class: 'link-box' });
  const linkBtn = h('button', { type: 'button', class: 'btn' }, 'Create a sign-up link');
  const list = h('ul', { class: 'sent-list', 'aria-live': 'polite' });

  const drawSent = () => {
    const mine = sent.get(roomID) || [];
    replace(list, mine.flatMap((inv) => inv.recipients.map((r) => h('li', { class: 'sent-row', 'data-status': r.status },
      avatar(r.user, 'sm'),
      h('span', { class: 'sent-name' }, r.user.display_name),
      h('span', { class: `pill status-${r.status}` }, ANSWER_WORDS[r.status] || r.status),
      r.text ? h('q', { class: 'sent-text' }, r.text) : null))));
  };

  const form = h('form', { class: 'stack' }, names.el, suggestions, message.el, err.el, send);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const usernames = parseNames(names.input.value);
    if (usernames.length === 0) { err.show('Enter at least one username.'); names.input.focus(); return; }
    busy(send, async () => {
      const inv = await post(`/rooms/${enc(roomID)}/invitations`, { usernames, message: message.input.value.trim() });
      if (!sent.has(roomID)) sent.set(roomID, []);
      sent.get(roomID).unshift({ id: inv.id, recipients: (inv.recipients || []).map((r) => ({ user: r.user, status: r.status, text: '' })) });
      names.input.value = '';
      toast(inv.to_stage ? 'Invitations sent. They will come straight on stage, unless a block stands between them and someone on it.' : 'Invitations sent.', 'info', 3000);
      drawSent();
    }, err);
  });

  linkBtn.addEventListener('click', () => busy(linkBtn, async () => {
    const r = await post(`/rooms/${enc(roomID)}/invitations`, { usernames: [], message: message.input.value.trim(), link: true });
    const input = h('input', { type: 'text', readonly: true, value: r.link, class: 'link-input', 'aria-label': 'Sign-up link', 'data-testid': 'invite-link' });
    input.addEventListener('focus', () => input.select());
    replace(linkBox, h('p', { class: 'hint' }, 'Anyone with this link can make an account (once) and land in this room.'), h('div', { class: 'row' }, input, copyButton(r.link)));
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

  redraw = drawSent;
  drawSent();
  sheet('Invite to the conversation', () => [
    form,
    h('h3', { class: 'section-title' }, 'Sent'), list,
    h('h3', { class: 'section-title' }, 'Someone without an account?'), linkBtn, linkBox,
  ], { onClose: () => { redraw = null; } });
}
