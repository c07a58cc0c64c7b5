// /notifications: invitations (accept, decline, ask a question), answers to the
// user's own invitations, and pings, arriving live.

import { h, replace, avatar, timeAgo } from '../dom.js';
import { get, post, enc } from '../api.js';
import { app, emit, on } from '../state.js';
import { answerControls } from './answer.js';

const ANSWERS = { accepted: 'accepted your invitation', declined: 'declined your invitation', question: 'asked about your invitation' };

function item(n) {
  const d = n.data || {};
  const from = d.from || { display_name: 'Someone' };
  const body = [];
  switch (n.kind) {
    case 'invitation':
      body.push(h('p', null, h('strong', null, from.display_name), ' invited you to ', h('strong', null, d.room_title || 'a conversation'),
        d.to_stage ? ' — to speak' : ''));
      if (d.message) body.push(h('blockquote', null, d.message));
      body.push(answerControls(d.invitation_id, d.room_id));
      break;
    case 'invitation_answer':
      body.push(h('p', null, h('strong', null, from.display_name), ' ', ANSWERS[d.answer] || 'answered your invitation'));
      if (d.text) body.push(h('blockquote', null, d.text));
      body.push(h('a', { href: `/invitations/${enc(d.invitation_id)}` }, 'See all answers'));
      break;
    case 'ping':
      body.push(h('p', null, h('strong', null, from.display_name), ' wants you in ', h('strong', null, d.room_title || 'a room')));
      body.push(h('a', { href: `/rooms/${enc(d.room_id)}`, class: 'btn btn-primary btn-small', 'data-autojoin': '1' }, 'Join'));
      break;
    default:
      body.push(h('p', null, 'Something happened.'));
  }
  return h('li', { class: ['notification', !n.read && 'unread'], 'data-kind': n.kind, 'data-testid': 'notification' },
    avatar(from, 'md'),
    h('div', { class: 'notification-body' }, body, h('p', { class: 'muted small' }, h('time', { datetime: n.created_at }, timeAgo(n.created_at)))));
}

export async function notificationsView() {
  const list = h('ul', { class: 'notification-list' });
  const { notifications } = await get('/notifications?limit=50');
  const draw = (ns) => {
    if (ns.length === 0) replace(list, h('li', { class: 'empty' }, h('p', { class: 'empty-title' }, 'Nothing yet'), h('p', { class: 'muted' }, 'Invitations and pings show up here.')));
    else replace(list, ns.map(item));
  };
  draw(notifications);
  const markRead = () => {
    if (app.unread === 0 && notifications.every((n) => n.read)) return;
    post('/notifications/read', {}).then(() => { app.unread = 0; emit('unread', 0); }).catch(() => {});
  };
  markRead();
  const off = on('notification', (n) => {
    notifications.unshift(n);
    list.prepend(item(n));
    if (notifications.length === 1) draw(notifications);
    markRead();
  });
  return {
    title: 'Notifications',
    destroy: off,
    el: h('section', { class: 'notifications' }, h('div', { class: 'page-head' }, h('h1', null, 'Notifications')), list),
  };
}
