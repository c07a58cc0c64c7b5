// The room page before the live room: the preview (one click joins), another
// tab playing it, a room that is gone; and the notice of a recorded room.

import { h, icon, avatar, plural } from '../dom.js';
import { enc, ApiError } from '../api.js';
import { app } from '../state.js';
import { shareButton } from '../share.js';
import { publicInvitations } from './publicinvitations.js';

export function goneView(e) {
  const notFound = e instanceof ApiError && (e.status === 404 || e.status === 410);
  let what = notFound ? 'This room has ended, or it is not open to you.' : e.message;
  if (notFound && !app.me) what = 'This room has ended, or you need to log in to join it.';
  return {
    title: 'Room',
    el: h('section', { class: 'card narrow center' },
      h('h1', null, notFound ? 'Room not available' : 'Could not open this room'),
      h('p', null, what),
      app.me ? h('a', { href: '/', class: 'btn btn-primary' }, 'Go to the hallway')
        : h('a', { href: '/login?next=' + enc(location.pathname), class: 'btn btn-primary' }, 'Log in')),
  };
}

// previewView shows a room before joining: one click joins (or listens as a guest).
export function previewView(id, info, onJoin) {
  const guest = !app.me;
  const button = h('button', { type: 'button', class: 'btn btn-primary btn-big', 'data-testid': 'join' }, icon('people'), guest ? 'Listen as a guest' : 'Join the room');
  const el = h('section', { class: 'card narrow center room-preview' },
    h('p', { class: 'eyebrow' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), info.state === 'live' ? 'Live now' : 'Starting soon'),
    h('h1', null, info.title),
    info.description ? h('p', { class: 'lede' }, info.description) : null,
    h('div', { class: 'avatar-stack center', 'aria-hidden': 'true' }, (info.stage || []).slice(0, 5).map((p) => avatar(p, 'lg'))),
    h('p', { class: 'muted' }, (info.stage || []).map((p) => p.display_name).join(', ') || 'Nobody on stage yet'),
    h('p', { class: 'counts center' }, plural((info.stage || []).length, 'speaker'), ' · ', plural(info.listener_count, 'listener')),
    info.recorded ? recordedNotice('recorded-notice') : null,
    button,
    guest ? h('p', { class: 'muted small' }, 'Guests listen only. ', h('a', { href: '/login?next=' + enc(location.pathname) }, 'Log in'), ' to raise your hand.') : null,
    h('div', { class: 'row center' }, shareButton(() => ({ url: `/rooms/${id}`, title: info.title }))));
  const invs = publicInvitations(`/rooms/${enc(id)}/public-invitations`);
  button.addEventListener('click', onJoin);
  return { el: h('div', { class: 'stack' }, el, invs.el), destroy: () => invs.destroy() };
}

// recordedNotice tells that the room is recorded: before joining, and before
// accepting to speak.
export function recordedNotice(testid, more = '') {
  return h('p', { class: 'notice notice-warn', role: 'note', 'data-testid': testid },
    h('span', { class: 'rec-dot', 'aria-hidden': 'true' }), h('strong', null, 'This room is recorded.'),
    ` Everything said on stage will be in its replay.${more}`);
}

// elsewhereView: another tab of this browser plays the room. Listening here
// stops it there (the server closes that tab's socket: bye "replaced").
export function elsewhereView(id, info, onJoin) {
  const here = h('button', { type: 'button', class: 'btn btn-primary btn-big', 'data-testid': 'listen-here' }, icon('people'), 'Listen here instead');
  here.addEventListener('click', onJoin);
  return {
    el: h('section', { class: 'card narrow center room-elsewhere', 'data-testid': 'elsewhere' },
      h('p', { class: 'eyebrow center' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), 'Live now'),
      h('h1', null, info.title),
      h('p', { class: 'lede', role: 'status', 'data-testid': 'elsewhere-text' }, 'You’re listening in another tab.'),
      h('p', { class: 'muted' }, 'One tab plays a room at a time. Listening here stops it there; you keep your place.'),
      here),
  };
}
