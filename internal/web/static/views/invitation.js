// /invitations/{id}: one invitation to a conversation. Its invitee answers it
// here; its sender sees every answer, live.

import { h, replace, avatar } from '../dom.js';
import { get, enc } from '../api.js';
import { app, on } from '../state.js';
import { answerControls } from './answer.js';

const STATUS = { pending: 'no answer yet', accepted: 'accepted', declined: 'declined', question: 'asked a question' };

export async function invitationView({ params }) {
  const inv = await get('/invitations/' + enc(params[0]));
  // Every invitation has its page now: an invitee goes to theirs.
  const own = (inv.recipients || []).find((r) => r.user.id === app.me.id && r.code);
  if (own) {
    app.navigate(`/i/${enc(own.code)}`, {}, { replace: true });
    return { title: 'Invitation', el: h('p', { class: 'muted' }, 'Opening the invitation…') };
  }
  let room = null;
  try {
    room = await get('/rooms/' + enc(inv.room_id));
  } catch {
    room = null;
  }
  const mine = inv.from.id === app.me.id;
  const answers = h('ul', { class: 'sent-list' });
  const draw = () => replace(answers, (inv.recipients || []).map((r) => h('li', { class: 'sent-row', 'data-status': r.status },
    avatar(r.user, 'sm'), h('span', { class: 'sent-name' }, r.user.display_name),
    h('span', { class: `pill status-${r.status}` }, STATUS[r.status] || r.status), r.text ? h('q', { class: 'sent-text' }, r.text) : null,
    r.code ? h('a', { href: `/i/${enc(r.code)}`, class: 'btn btn-small btn-ghost' }, 'Open') : null)));
  draw();
  const off = on('notification', (n) => {
    if (!n || n.kind !== 'invitation_answer' || !n.data || n.data.invitation_id !== inv.id) return;
    for (const r of inv.recipients || []) if (r.user.id === n.data.from.id) { r.status = n.data.answer; r.text = n.data.text || ''; }
    draw();
  });
  const me = (inv.recipients || []).find((r) => r.user.id === app.me.id);
  return {
    title: 'Invitation',
    destroy: off,
    el: h('section', { class: 'card narrow' },
      h('p', { class: 'eyebrow' }, mine ? 'Your invitation' : 'Invitation'),
      h('h1', null, room ? room.title : 'A conversation'),
      h('p', null, mine ? 'You invited people to this conversation.' : `${inv.from.display_name} invited you${inv.to_stage ? ' to speak' : ''}.`),
      inv.message ? h('blockquote', null, inv.message) : null,
      !room ? h('p', { class: 'notice notice-soft' }, 'This room has ended.') : null,
      room && !mine && me ? answerControls(inv.id, inv.room_id) : null,
      room && mine ? h('a', { href: `/rooms/${enc(inv.room_id)}`, class: 'btn' }, 'Go to the room') : null,
      mine ? [h('h2', { class: 'section-title' }, 'Answers'), answers] : null),
  };
}
