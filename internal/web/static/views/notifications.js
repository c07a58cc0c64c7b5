// /notifications: invitations (accept, decline, ask a question), answers to the
// user's own invitations, and pings, arriving live.

import { h, replace, avatar, icon, timeAgo } from '../dom.js';
import { get, post, enc } from '../api.js';
import { app, emit, on } from '../state.js';
import { answerControls } from './answer.js';
import { formatWhen, untilWords } from '../when.js';

const ANSWERS = { accepted: 'accepted your invitation', declined: 'declined your invitation', question: 'asked about your invitation' };

// EVENT_ANSWER maps an event invitation's status to the words of ANSWERS.
const EVENT_ANSWER = { accepted: 'accepted', declined: 'declined', question: 'question' };

function eventLink(d, text = 'See the event') {
  return d.event_id ? h('a', { href: `/events/${enc(d.event_id)}`, class: 'btn btn-small' }, text) : null;
}

function item(n) {
  const d = n.data || {};
  // Conversation notices name their sender ({id, username, display_name});
  // event notices carry only the sender's ID.
  const from = d.from && typeof d.from === 'object' ? d.from : { id: typeof d.from === 'string' ? d.from : '', display_name: 'Someone' };
  const body = [];
  switch (n.kind) {
    case 'invitation':
      body.push(h('p', null, h('strong', null, from.display_name), ' invited you to ', h('strong', null, d.room_title || 'a conversation'),
        d.to_stage ? ' — to speak' : ''));
      if (d.message) body.push(h('blockquote', null, d.message));
      body.push(answerControls(d.invitation_id, d.room_id));
      body.push(h('a', { href: `/invitations/${enc(d.invitation_id)}`, class: 'small' }, 'Open the invitation'));
      break;
    case 'invitation_answer':
      body.push(h('p', null, h('strong', null, from.display_name), d.by ? ` (by ${d.by.display_name})` : '', ' ', ANSWERS[d.answer] || 'answered your invitation'));
      if (d.text) body.push(h('blockquote', null, d.text));
      body.push(h('a', { href: d.code ? `/i/${enc(d.code)}` : `/invitations/${enc(d.invitation_id)}` }, d.answer === 'question' ? 'Answer it' : 'See all answers'));
      break;
    case 'invitation_reply':
      body.push(h('p', null, h('strong', null, from.display_name), d.by ? ` (by ${d.by.display_name})` : '', ' answered about ', h('strong', null, d.title || 'their invitation')));
      if (d.text) body.push(h('blockquote', null, d.text));
      body.push(h('a', { href: `/i/${enc(d.code)}`, class: 'btn btn-small' }, 'See the invitation'));
      break;
    case 'speaking':
      body.push(h('p', null, h('strong', null, from.display_name), ' is speaking in ', h('strong', null, d.room_title || 'a room')));
      body.push(h('a', { href: `/rooms/${enc(d.room_id)}`, class: 'btn btn-primary btn-small', 'data-autojoin': '1' }, 'Listen'));
      break;
    case 'ping':
      body.push(h('p', null, h('strong', null, from.display_name), ' wants you in ', h('strong', null, d.room_title || 'a room')));
      body.push(h('a', { href: `/rooms/${enc(d.room_id)}`, class: 'btn btn-primary btn-small', 'data-autojoin': '1' }, 'Join'));
      break;
    case 'new_follower':
      body.push(h('p', null, h('a', { href: `/u/${enc(from.username || '')}` }, h('strong', null, from.display_name)), ' follows you now.'));
      break;
    case 'made_moderator':
      body.push(h('p', null, 'You are a moderator in ', h('strong', null, d.room_title || 'a room'), ' now.'));
      if (d.room_id) body.push(h('a', { href: `/rooms/${enc(d.room_id)}`, class: 'btn btn-small', 'data-autojoin': '1' }, 'Go to the room'));
      break;
    case 'event_live':
      body.push(h('p', null, h('strong', null, d.title || 'An event'), ' is live now.'));
      if (d.room_id) body.push(h('div', { class: 'row wrap' }, h('a', { href: `/rooms/${enc(d.room_id)}`, class: 'btn btn-primary btn-small', 'data-autojoin': '1', 'data-testid': 'join-live-event' }, 'Join'),
        d.event_id ? h('a', { href: `/events/${enc(d.event_id)}`, class: 'btn btn-small btn-ghost' }, 'About the event') : null));
      break;
    case 'event_reminder':
      body.push(h('p', null, h('strong', null, d.title || 'An event'), ' starts ', d.starts_at ? untilWords(d.starts_at) : 'soon', '.'),
        eventLink(d));
      break;
    case 'event_invitation':
      body.push(h('p', null, 'You are invited', d.to_stage ? ' to speak' : '', ' at ', h('strong', null, d.title || 'an event'),
        d.starts_at ? ` (${formatWhen(d.starts_at)})` : '', '.'));
      if (d.message) body.push(h('blockquote', null, d.message));
      body.push(eventLink(d, 'See it and answer'));
      break;
    case 'event_invitation_answer':
      body.push(h('p', null, 'An invitee ', ANSWERS[EVENT_ANSWER[d.answer] || d.answer] || 'answered your invitation', ' to ', h('strong', null, d.title || 'your event'), '.'));
      if (d.message) body.push(h('blockquote', null, d.message));
      body.push(eventLink(d, 'See all answers'));
      break;
    case 'event_updated':
      body.push(h('p', null, h('strong', null, d.title || 'An event'), ' changed', d.starts_at ? `: it starts ${formatWhen(d.starts_at)}` : '', '.'), eventLink(d));
      break;
    case 'event_cancelled':
      body.push(h('p', null, h('strong', null, d.title || 'An event'), ' was cancelled.'));
      break;
    case 'club_request':
      body.push(h('p', null, 'Someone asks to join ', h('strong', null, d.club_name || 'your club'), '.'),
        h('a', { href: `/clubs/${enc(d.club_id || '')}`, class: 'btn btn-small' }, 'See requests'));
      break;
    case 'club_request_decided':
      body.push(h('p', null, d.approved ? 'You are a member of ' : 'Your request to join ', h('strong', null, d.club_name || 'a club'),
        d.approved ? ' now.' : ' was declined.'));
      if (d.approved) body.push(h('a', { href: `/clubs/${enc(d.club_id || '')}`, class: 'btn btn-small' }, 'Go to the club'));
      break;
    default:
      body.push(h('p', null, 'Something happened.'));
  }
  const about = /^(event|club)_/.exec(n.kind || '');
  return h('li', { class: ['notification', !n.read && 'unread'], 'data-kind': n.kind, 'data-testid': 'notification' },
    about ? h('span', { class: 'club-mark', 'aria-hidden': 'true' }, icon(about[1] === 'club' ? 'club' : 'calendar')) : avatar(from, 'md'),
    h('div', { class: 'notification-body' }, body, h('p', { class: 'muted small' }, h('time', { datetime: n.created_at }, timeAgo(n.created_at)))));
}

export async function notificationsView() {
  const list = h('ul', { class: 'notification-list' });
  const { notifications } = await get('/notifications?limit=50');
  const draw = (ns) => {
    if (ns.length === 0) replace(list, h('li', { class: 'empty' }, h('p', { class: 'empty-title' }, 'Nothing yet'), h('p', { class: 'muted' }, 'Invitations, pings and event news show up here.')));
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
    el: h('section', { class: 'notifications' }, h('div', { class: 'page-head' }, h('h1', null, 'Notifications'),
      h('a', { href: '/invitations', class: 'btn btn-small' }, 'Your invitations')), list),
  };
}
