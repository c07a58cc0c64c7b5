// /rooms/{id}: a live room. The stage, the audience, the chat beside them, the
// user's own controls and reactions, and for moderators the per-person menu and
// the room's settings. The RoomSession (../roomsession.js) outlives this view:
// leaving the page keeps the user in the room (the minibar shows it) until they
// leave quietly. A reload puts them back in it, and a second tab of the same
// browser asks before it takes the room over (../roomtabs.js).

import { h, replace, icon, avatar, plural, setAvatarScope } from '../dom.js';
import { get, post, enc, ApiError } from '../api.js';
import { app, toast, announce } from '../state.js';
import { RoomSession } from '../roomsession.js';
import { track, resumable, playingElsewhere, takingOver } from '../roomtabs.js';
import { busy, sheet } from './ui.js';
import { inviteSheet } from './invite.js';
import { reportSheet } from './report.js';
import { shareButton, share } from '../share.js';
import { publicInvitations } from './publicinvitations.js';
import { chatPanel, safeLink } from './chat.js';
import { reactionBar, floatReactions } from './reactions.js';
import { personSheet, roomSettings } from './roomsheets.js';
import { replayCard } from './replay.js';
import { goneView, previewView, elsewhereView, recordedNotice } from './roomentry.js';

const TYPE_WORDS = { open: 'Open room', social: 'Social room', closed: 'Closed room' };

export async function roomView({ params, state }) {
  const id = params[0];
  const m = mount();
  const existing = app.room && app.room.id === id && app.room.status !== 'over' ? app.room : null;
  if (existing) {
    m.show(liveView(existing, m));
    return m.view(existing.room ? existing.room.title : 'Room');
  }
  let info;
  let elsewhere;
  try {
    [info, elsewhere] = await Promise.all([get('/rooms/' + enc(id)), playingElsewhere(id)]);
  } catch (e) {
    // An ended room: its replay, if it was recorded and is open to the user.
    const card = e instanceof ApiError && e.status === 404 ? await replayCard(id).catch(() => null) : null;
    if (card) return { title: 'Replay', el: card };
    return goneView(e);
  }
  const guest = !app.me;
  const onJoin = () => m.show(liveView(joinRoom(id, guest), m), true);
  if (elsewhere) m.show(elsewhereView(id, info, onJoin));
  else if ((app.me && state.autojoin) || resumable(id, guest, true)) m.show(liveView(joinRoom(id, guest), m));
  else m.show(previewView(id, info, onJoin));
  return m.view(info.title);
}

// mount is the place of the room page where one view at a time shows: the
// preview, then the live room; the room over, then the live room again.
function mount() {
  const el = h('div', { class: 'room-mount' });
  let cur = null;
  return {
    el,
    show(v, focus = false) {
      if (cur && cur.destroy) cur.destroy();
      cur = v;
      replace(el, v.el);
      const h1 = focus && el.querySelector('h1');
      if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus(); }
    },
    view(title) {
      return { title, el, destroy: () => { if (cur && cur.destroy) cur.destroy(); cur = null; } };
    },
  };
}

// joinRoom starts the user's session in room id (from a click, right after one,
// or resuming the room a reload left): it tells the other tabs, which stop
// playing it, and remembers it for a reload.
export function joinRoom(id, guest) {
  const s = new RoomSession(id, { guest });
  s.audio.unlock();
  takingOver(id);
  track(s);
  app.setRoom(s);
  s.start();
  return s;
}

// liveView draws the room of session s and keeps it current; m is where it
// shows (the room over offers to join again in place).
function liveView(s, m) {
  const head = h('div', { class: 'room-head' });
  const notices = h('div', { class: 'room-notices' });
  const stage = h('ul', { class: 'people-grid stage-grid', 'aria-label': 'Stage' });
  const hands = h('section', { class: 'hands', 'aria-label': 'Raised hands' });
  const audience = h('section', { class: 'audience', 'aria-label': 'Audience' });
  // The reactions of people without a tile float over the audience, on a
  // layer of its own: the audience is redrawn under it.
  const lane = h('div', { class: 'reaction-lane', 'aria-hidden': 'true', 'data-testid': 'reaction-lane' });
  const controls = h('div', { class: 'dock-controls' });
  const reactions = reactionBar(s);
  // The live captions: the latest lines, over the dock, while CC is on.
  const captions = h('div', { class: 'room-captions', hidden: true, 'aria-live': 'polite', 'data-testid': 'captions' });
  const dock = h('div', { class: 'room-dock', role: 'toolbar', 'aria-label': 'Your controls' }, captions, reactions.el, controls);
  const invs = publicInvitations(`/rooms/${enc(s.id)}/public-invitations`);
  const body = h('div', { class: 'room-body' },
    h('section', { class: 'stage', 'aria-labelledby': 'stage-h' }, h('h2', { id: 'stage-h', class: 'section-title' }, 'On stage'), stage),
    hands, h('div', { class: 'audience-wrap' }, audience, lane), invs.el);

  // On a phone the room and its chat are two tabs; side by side on a wide screen
  // (style.css hides the tabs there).
  let unread = 0;
  const tab = (name, label) => h('button', { type: 'button', role: 'tab', id: `tab-${name}-${s.id}`, class: 'room-tab',
    'aria-controls': `panel-${name}-${s.id}`, 'data-testid': `tab-${name}` }, label);
  const tabRoom = tab('room', 'Room');
  const unreadBadge = h('span', { class: 'tab-badge', hidden: true, 'data-testid': 'chat-unread' });
  const tabChat = tab('chat', 'Chat');
  tabChat.append(unreadBadge);
  const tabs = h('div', { class: 'room-tabs', role: 'tablist', 'aria-label': 'The room or its chat' }, tabRoom, tabChat);
  const chat = chatPanel(s, { onNew: (n) => { unread += n; drawUnread(); } });
  const main = h('div', { class: 'room-main', role: 'tabpanel', id: `panel-room-${s.id}`, 'aria-labelledby': tabRoom.id }, body);
  const side = h('div', { class: 'room-side', role: 'tabpanel', id: `panel-chat-${s.id}`, 'aria-labelledby': tabChat.id }, chat.el);
  const el = h('section', { class: 'room has-chat', 'data-room-id': s.id, 'data-tab': 'room' }, head, notices, tabs, main, side, dock);
  const drawUnread = () => {
    unreadBadge.hidden = unread === 0;
    unreadBadge.textContent = unread > 99 ? '99+' : String(unread);
    tabChat.setAttribute('aria-label', unread ? `Chat, ${unread} new` : 'Chat');
  };
  const select = (name, focus = false) => {
    el.dataset.tab = name;
    for (const [t, n] of [[tabRoom, 'room'], [tabChat, 'chat']]) {
      t.setAttribute('aria-selected', String(n === name));
      t.tabIndex = n === name ? 0 : -1;
    }
    if (focus) (name === 'chat' ? tabChat : tabRoom).focus();
    if (name === 'chat') { unread = 0; drawUnread(); chat.scrollToEnd(); }
  };
  // A tab chosen brings the tabs under the header: the chat's composer then
  // sits right above the dock.
  const choose = (name, focus) => { select(name, focus); tabs.scrollIntoView({ block: 'start' }); };
  tabRoom.addEventListener('click', () => choose('room'));
  tabChat.addEventListener('click', () => choose('chat'));
  tabs.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') choose(el.dataset.tab === 'room' ? 'chat' : 'room', true);
  });
  select('room');

  const followed = new Map(); // speaker username → {at, ids: Set of the user IDs they follow}
  let wasOnStage = null;
  let wasRecorded = null; // to tell when a moderator switches the recording
  let invitedBy = '';
  let speaking = new Set();
  let announceTimer = 0;
  let welcomed = false; // the return of a reload was announced

  // --- what follows the speakers ---------------------------------------------
  // The audience is split by "followed by the speakers": for each speaker (up to
  // 8), one GET /api/v1/users/{username}/following (first 100), refreshed at most
  // every 15 s while the room changes. Exact for speakers who follow up to 100
  // people, an approximation beyond (the API has no "who here do they follow").
  const loadFollowing = () => {
    if (!app.me || !s.room) return;
    const now = Date.now();
    for (const p of s.room.stage.slice(0, 8)) {
      const have = p.username && followed.get(p.username);
      if (!p.username || (have && now - have.at < 15000)) continue;
      followed.set(p.username, { at: now, ids: have ? have.ids : new Set() });
      get(`/users/${enc(p.username)}/following?limit=100`)
        .then((r) => { followed.set(p.username, { at: Date.now(), ids: new Set(r.users.map((u) => u.id)) }); drawAudience(); })
        .catch(() => {});
    }
  };
  const followedBySpeakers = (id) => {
    for (const p of s.room.stage) {
      const f = p.username && followed.get(p.username);
      if (f && f.ids.has(id)) return true;
    }
    return false;
  };

  // --- drawing -----------------------------------------------------------------
  const draw = (what = 'state') => {
    if (s.status === 'over') return drawOver();
    drawHead();
    drawNotices();
    reactions.update();
    if (!s.room) {
      replace(stage, h('li', { class: 'muted' }, 'Joining…'));
      return;
    }
    document.title = `${s.room.title} · ${document.getElementById('app').dataset.name || 'townhall'}`;
    if (wasRecorded !== null && wasRecorded !== Boolean(s.room.recorded)) {
      const what = s.room.recorded ? 'Recording started: this room is now recorded for a replay.' : 'Recording stopped.';
      toast(what, 'info', 6000);
      announce(what);
    }
    wasRecorded = Boolean(s.room.recorded);
    setAvatarScope([...s.room.stage, ...s.room.listeners]);
    drawStage();
    drawHands();
    drawAudience();
    drawDock();
    drawCaptions();
    chat.update(what);
    loadFollowing();
  };

  const OVER_TITLES = { removed: 'You were removed', left: 'You left the room', ended: 'The room has ended', signed_out: 'You were signed out', disabled: 'You were signed out' };
  const drawOver = () => {
    setAvatarScope([]);
    if (s.ending === 'replaced') return drawElsewhere();
    // Signed out by the server: log in again and come back here.
    const signedOut = s.ending === 'signed_out' || s.ending === 'disabled';
    const login = h('a', { href: '/login?next=' + enc(`/rooms/${s.id}`), class: 'btn btn-primary', 'data-testid': 'login-again' }, 'Log in');
    replace(el, h('div', { class: 'card narrow center room-over', role: 'status' },
      h('h1', { tabindex: '-1' }, OVER_TITLES[s.ending] || 'Not in the room'),
      h('p', { 'data-testid': 'room-over' }, s.endingText),
      h('div', { class: 'row center' },
        app.me && !signedOut ? h('a', { href: '/', class: 'btn btn-primary' }, 'Back to the hallway') : login,
        !app.me && !signedOut ? h('p', { class: 'muted small' }, 'Have an invite? Open your invite link to sign up.') : null)));
    const h1 = el.querySelector('h1');
    if (h1 && (document.activeElement === document.body || !el.contains(document.activeElement))) h1.focus();
  };

  // drawElsewhere: another tab (or device) took the room over. Nothing went
  // wrong, and the user keeps their place: say so calmly, and offer it back.
  const drawElsewhere = () => {
    const where = s.elsewhere === 'tab' ? 'in another tab' : 'in another tab or on another device';
    const here = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'listen-here' }, icon('people'), 'Listen here instead');
    here.addEventListener('click', () => m.show(liveView(joinRoom(s.id, s.guest), m), true));
    replace(el, h('div', { class: 'card narrow center room-elsewhere', role: 'status', 'data-testid': 'elsewhere' },
      h('h1', { tabindex: '-1' }, `You’re listening ${where}`),
      h('p', { 'data-testid': 'room-over' }, s.room ? `“${s.room.title}” plays there now. One of them plays a room at a time; you keep your place.` : s.endingText),
      h('div', { class: 'row center wrap' }, here, h('a', { href: '/', class: 'btn btn-ghost' }, 'Back to the hallway'))));
  };

  const audioPill = () => {
    const a = s.audio.status;
    const words = { waiting: 'Audio connecting…', connecting: 'Audio connecting…', live: 'Audio on', failed: 'Audio unavailable', closed: '' }[a];
    return h('span', { class: `pill audio-${a}`, 'data-testid': 'audio-status' }, words);
  };

  // cutClip keeps the last moments of the room as a clip and offers its link.
  const cutClip = (btn) => busy(btn, async () => {
    const c = await post('/rooms/' + enc(s.id) + '/clips');
    sheet('Clip saved', (close) => h('div', { class: 'stack' },
      h('p', null, 'The last moments of the room are kept as a clip with its own page.'),
      h('div', { class: 'row' },
        h('a', { href: `/clips/${enc(c.id)}`, class: 'btn btn-primary', 'data-testid': 'clip-link', onclick: close }, 'Open the clip'),
        shareButton(() => ({ url: `/clips/${c.id}`, title: c.title })))));
  }).catch((e) => toast(e.message, 'error'));

  let headKey = '';
  const drawHead = () => {
    const r = s.room;
    const key = JSON.stringify([r && [r.title, r.type, r.allow_guests, r.listener_count, r.description, r.pinned_link, r.recorded, r.clips_allowed, r.live_captions], s.audio.status, s.isModerator, Boolean(app.me), s.ccOn]);
    if (key === headKey) return;
    headKey = key;
    const pinned = r && r.pinned_link ? safeLink(r.pinned_link) : null;
    replace(head,
      h('a', { href: '/', class: 'icon-btn back', 'aria-label': 'Back to the hallway (you stay in the room)' }, icon('down')),
      h('div', { class: 'room-titles' },
        h('h1', { class: 'room-name' }, r ? r.title : 'Joining…'),
        r ? h('p', { class: 'room-meta' },
          h('span', { class: 'tag' }, TYPE_WORDS[r.type] || r.type),
          r.allow_guests ? h('span', { class: 'tag' }, 'guests welcome') : null,
          r.recorded ? h('span', { class: 'tag tag-rec', 'data-testid': 'recorded-badge' }, h('span', { class: 'rec-dot', 'aria-hidden': 'true' }), 'Recorded') : null,
          h('span', { 'data-testid': 'listener-count' }, plural(r.listener_count, 'listener')),
          audioPill()) : null,
        r && r.description ? h('p', { class: 'room-desc' }, r.description) : null,
        pinned ? h('p', { class: 'room-pin', 'data-testid': 'pinned-link' }, icon('link', 'tiny'), h('span', { class: 'sr-only' }, 'Pinned link: '), pinned) : null),
      r && r.live_captions ? h('button', {
        type: 'button', class: ['icon-btn', 'btn-cc', s.ccOn && 'is-on'], 'aria-pressed': String(s.ccOn),
        'aria-label': s.ccOn ? 'Hide live captions' : 'Show live captions', title: 'Live captions', 'data-testid': 'cc',
        onclick: () => s.setCC(!s.ccOn),
      }, h('span', { class: 'cc-mark', 'aria-hidden': 'true' }, 'CC')) : null,
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Share the room', 'data-testid': 'share', onclick: () => share(`/rooms/${s.id}`, r ? r.title : 'A room') }, icon('share')),
      r && r.clips_allowed && app.me ? h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'clip', onclick: (e) => cutClip(e.currentTarget) }, 'Clip') : null,
      s.isModerator ? h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Room settings', 'data-testid': 'room-settings', onclick: () => roomSettings(s) }, icon('more'))
        : (app.me && r ? h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Report this room', 'data-testid': 'report-room',
          onclick: () => reportSheet('room', s.id, 'this room') }, icon('flag')) : null));
  };

  // The notices and the dock are redrawn only when what they show changed, so a
  // button is not replaced under the pointer by an unrelated update.
  let noticesKey = '';
  let dockKey = '';

  const drawNotices = () => {
    const invited = Boolean(s.room && !s.onStage && s.you && s.room.speak_invitations.includes(s.you.id));
    const key = JSON.stringify([s.status, s.reconnectWhy, s.guest, Boolean(s.room), invited, invitedBy, s.audio.blocked, s.onStage && s.audio.micError]);
    if (key === noticesKey) return;
    noticesKey = key;
    const list = [];
    if (s.status === 'reconnecting') {
      const why = s.reconnectWhy === 'moved' ? 'The room moved to another server; you keep your place.'
        : 'The connection dropped; you keep your place for a few seconds.';
      list.push(h('div', { class: 'notice notice-warn', role: 'status', 'data-testid': 'reconnecting' }, icon('wifiOff'),
        h('span', null, h('strong', { 'data-testid': 'reconnecting-label' }, 'Reconnecting…'), ' ', why),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => s.reconnectNow() }, 'Retry now')));
    } else if (s.status === 'connecting') {
      list.push(h('div', { class: 'notice', role: 'status' }, 'Joining the room…'));
    }
    if (s.guest && s.room) {
      list.push(h('div', { class: 'notice notice-soft' },
        h('span', null, 'You are listening as a guest. To raise your hand and speak, you need an account: '),
        h('a', { href: '/login?next=' + enc(location.pathname) }, 'log in'), h('span', null, ', or ask someone here for an invite link.')));
    }
    if (s.room && !s.onStage && s.you && s.room.speak_invitations.includes(s.you.id)) {
      const yes = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'accept-speak' }, icon('mic'), 'Join the stage');
      const no = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Not now');
      yes.addEventListener('click', () => busy(yes, async () => {
        s.audio.getMic(); // inside the click: the browser asks for the microphone now
        await s.send('accept_speak');
      }).catch((e) => toast(e.message, 'error')));
      no.addEventListener('click', () => busy(no, () => s.send('decline_speak')).catch((e) => toast(e.message, 'error')));
      list.push(h('div', { class: 'notice notice-invite', role: 'alertdialog', 'aria-label': 'Invitation to speak' },
        h('span', null, invitedBy ? `${invitedBy} invited you to speak.` : 'The moderators invited you to speak.'),
        s.room.recorded ? recordedNotice('recorded-speak-notice', ' Say “Not now” if you do not want your voice in it.') : null,
        h('div', { class: 'row' }, yes, no)));
    }
    if (s.audio.blocked) {
      const play = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-testid': 'play-sound' }, 'Play sound');
      play.addEventListener('click', () => s.audio.resumePlayback());
      list.push(h('div', { class: 'notice notice-warn', role: 'alert' }, h('span', null, 'Your browser paused the sound of this room.'), play));
    }
    if (s.onStage && s.audio.micError) {
      const retry = h('button', { type: 'button', class: 'btn btn-small' }, 'Try again');
      retry.addEventListener('click', () => busy(retry, async () => {
        await s.audio.getMic();
        if (s.audio.micError) toast(s.audio.micError, 'error'); // still refused: say it again
      }));
      list.push(h('div', { class: 'notice notice-warn', role: 'alert', 'data-testid': 'mic-error' }, icon('micOff'), h('span', null, s.audio.micError), retry));
    }
    replace(notices, list);
  };

  // isSpeaking: someone on stage, not muted, whom active_speakers hears.
  const isSpeaking = (p) => !p.muted && s.speaking.has(p.id);

  const tileLabel = (p, onStage, speakingNow) => {
    const me = s.you && p.id === s.you.id;
    const bits = [p.display_name + (me ? ' (you)' : '')];
    if (p.role === 'moderator') bits.push('moderator');
    if (onStage && p.muted) bits.push(p.held ? 'muted by a moderator' : 'muted');
    if (onStage && p.reconnecting) bits.push('reconnecting');
    if (speakingNow) bits.push('speaking');
    if (p.hand_raised) bits.push('hand raised');
    return bits.join(', ');
  };

  const personTile = (p, { onStage }) => {
    const speakingNow = onStage && isSpeaking(p);
    const me = s.you && p.id === s.you.id;
    const away = onStage && p.reconnecting;
    const b = h('button', {
      type: 'button', class: ['person', speakingNow && 'speaking', me && 'is-me', away && 'is-away'],
      'aria-label': tileLabel(p, onStage, speakingNow), 'data-user-id': p.id, 'data-testid': onStage ? 'stage-person' : 'listener',
    },
    h('span', { class: 'ring' }, avatar(p, onStage ? 'xl' : 'lg'),
      onStage && p.muted ? h('span', { class: 'badge-mute', title: 'Muted' }, icon('micOff', 'tiny')) : null,
      away ? h('span', { class: 'badge-away', title: 'Reconnecting' }, icon('wifiOff', 'tiny')) : null,
      p.hand_raised ? h('span', { class: 'badge-hand' }, icon('hand', 'tiny')) : null),
    h('span', { class: 'person-name' }, p.role === 'moderator' ? h('span', { class: 'mod-star', title: 'Moderator' }, icon('star', 'tiny')) : null,
      h('span', { class: 'person-name-text' }, p.display_name)),
    away ? h('span', { class: 'person-status', 'data-testid': 'tile-reconnecting' }, 'reconnecting…') : null);
    b.addEventListener('click', () => personSheet(s, p.id));
    return h('li', { class: 'tile' }, b);
  };

  // The stage and the audience are redrawn only when what they show changed: a
  // tile is not replaced under the pointer, and the reactions floating over it
  // stay.
  const tileKey = (p) => [p.id, p.display_name, p.photo, p.role, p.muted, p.held, p.reconnecting, p.hand_raised];
  let stageKey = '';
  let audienceKey = '';

  const drawStage = () => {
    const key = JSON.stringify([s.you && s.you.id, s.room.stage.map(tileKey)]); // the rings change in place (drawRings)
    if (key === stageKey) return;
    stageKey = key;
    replace(stage, s.room.stage.map((p) => personTile(p, { onStage: true })));
  };

  // drawRings turns the speaking rings on and off in place (redrawing the stage
  // on every active_speakers would steal focus).
  const drawRings = () => {
    if (!s.room) return;
    for (const b of stage.querySelectorAll('[data-testid=stage-person]')) {
      const p = s.stageEntry(b.dataset.userId);
      if (!p) continue;
      const now = isSpeaking(p);
      if (b.classList.contains('speaking') === now) continue;
      b.classList.toggle('speaking', now);
      b.setAttribute('aria-label', tileLabel(p, true, now));
    }
  };

  const drawHands = () => {
    const r = s.room;
    if (!s.isModerator || r.raised_hands.length === 0) { replace(hands); hands.hidden = true; return; }
    hands.hidden = false;
    replace(hands, h('h2', { class: 'section-title' }, `Raised hands (${r.raised_hands.length})`),
      h('ul', { class: 'hand-list' }, r.raised_hands.map((p) => {
        const pending = r.speak_invitations.includes(p.id);
        const b = h('button', { type: 'button', class: 'btn btn-small', disabled: pending }, pending ? 'Invited' : 'Invite to speak');
        b.addEventListener('click', () => command(b, 'invite_to_speak', { target: p.id }));
        return h('li', { class: 'hand-row' }, avatar(p, 'sm'), h('span', { class: 'hand-name' }, p.display_name), b);
      })));
  };

  // moreListeners is the button that lists the next listeners of a big audience.
  const moreListeners = () => {
    const b = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'more-listeners' }, 'Show more');
    b.addEventListener('click', () => busy(b, () => s.loadMoreListeners()).catch((e) => toast(e.message, 'error')));
    return b;
  };

  const drawAudience = () => {
    const r = s.room;
    if (!r) return;
    const mine = r.listeners;
    const first = [];
    const rest = [];
    for (const p of mine) (app.me && followedBySpeakers(p.id) ? first : rest).push(p);
    const named = mine.length;
    const unnamed = Math.max(0, r.listener_count - named);
    const key = JSON.stringify([s.you && s.you.id, first.map(tileKey), rest.map(tileKey), r.listener_count]);
    if (key === audienceKey) return;
    audienceKey = key;
    const group = (title, people, testid) => people.length === 0 ? null : h('div', { class: 'audience-group', 'data-testid': testid },
      h('h2', { class: 'section-title' }, title),
      h('ul', { class: 'people-grid' }, people.map((p) => personTile(p, { onStage: false }))));
    replace(audience,
      group('Followed by the speakers', first, 'followed-audience'),
      group(first.length ? 'Others in the room' : 'In the audience', rest, 'other-audience'),
      unnamed > 0 ? h('p', { class: 'muted' }, `and ${plural(unnamed, 'more listener')} `, moreListeners()) : null,
      r.listener_count === 0 ? h('p', { class: 'muted small' }, 'No listeners yet. Invite someone!') : null);
  };

  // drawCaptions shows the latest lines of live captions, each with its speaker.
  const drawCaptions = () => {
    const on = Boolean(s.room && s.room.live_captions && s.ccOn);
    captions.hidden = !on;
    if (!on) { replace(captions); return; }
    replace(captions, s.captions.length === 0
      ? h('p', { class: 'caption-line muted' }, 'Captions are on. They show here when someone speaks.')
      : s.captions.map((c) => h('p', { class: 'caption-line', 'data-testid': 'caption-line' },
        h('strong', { class: 'caption-who' }, (c.speaker.display_name || 'Someone') + ': '), h('span', null, c.text))));
  };

  const drawDock = () => {
    const me = s.stageEntry();
    const raisedNow = Boolean(s.you && s.room.raised_hands.some((p) => p.id === s.you.id));
    const key = JSON.stringify([s.guest, me && [me.muted, me.held], raisedNow, s.room.hand_policy]);
    if (key === dockKey) return;
    dockKey = key;
    const items = [];
    const leave = h('button', { type: 'button', class: 'btn btn-ghost dock-leave', 'data-testid': 'leave' }, icon('leave'), 'Leave quietly');
    leave.addEventListener('click', async () => {
      await s.leave();
      app.navigate('/');
    });
    items.push(leave);
    if (!s.guest) {
      items.push(h('button', { type: 'button', class: 'btn dock-invite', onclick: () => inviteSheet(s) }, icon('invite'), h('span', { class: 'btn-label' }, 'Invite')));
    }
    if (me) {
      const muted = me.muted;
      const b = h('button', {
        type: 'button', class: ['btn', 'btn-round', muted ? 'is-muted' : 'is-live'], 'aria-pressed': String(!muted),
        'aria-label': muted ? (me.held ? 'Muted by a moderator' : 'Unmute your microphone') : 'Mute your microphone', 'data-testid': 'mute',
      }, icon(muted ? 'micOff' : 'mic'), h('span', { class: 'btn-label' }, muted ? 'Unmute' : 'Mute'));
      if (me.held) b.setAttribute('aria-disabled', 'true');
      b.addEventListener('click', () => {
        if (me.held) { toast('A moderator muted you. Only a moderator can release it.', 'info'); return; }
        if (!muted) { command(b, 'set_muted', { muted: true }); return; }
        // Unmuting needs a microphone: ask inside the click, and stay muted
        // (saying why) when there is none.
        const mic = s.audio.getMic();
        busy(b, async () => {
          if (!(await mic)) throw new Error(s.audio.micError || 'Your microphone is not available.');
          await s.send('set_muted', { muted: false });
        }).catch((e) => toast(e.message, 'error'));
      });
      items.push(b);
    } else if (!s.guest) {
      const raised = s.room.raised_hands.some((p) => p.id === s.you.id);
      const noHands = s.room.hand_policy === 'nobody';
      const b = h('button', {
        type: 'button', class: ['btn', 'btn-round', raised && 'is-raised'], 'aria-pressed': String(raised),
        'aria-label': raised ? 'Lower your hand' : 'Raise your hand', 'data-testid': 'hand', disabled: noHands && !raised,
        title: noHands ? 'The moderators are not taking raised hands' : null,
      }, icon('hand'), h('span', { class: 'btn-label' }, raised ? 'Lower hand' : 'Raise hand'));
      b.addEventListener('click', () => command(b, raised ? 'lower_hand' : 'raise_hand'));
      items.push(b);
    }
    replace(controls, items);
  };

  // command sends a room command from a button and shows a refusal in words.
  const command = (button, type, fields) => {
    const run = () => s.send(type, fields);
    (button ? busy(button, run) : run()).catch((e) => toast(e.message, 'error'));
  };

  // --- reacting to the session ----------------------------------------------------
  const onChange = (e) => {
    const what = e.detail;
    if (what === 'speaking') { drawRings(); speakingChanged(); return; }
    if (what === 'captions') { drawCaptions(); drawHead(); return; }
    syncMic();
    // Audio and microphone news touch one part of the page: redrawing the rest
    // would replace the buttons under the user's finger.
    if (s.status !== 'over' && (what === 'audio' || what === 'mic' || what === 'audio-blocked')) {
      drawHead();
      drawNotices();
      return;
    }
    if (what === 'snapshot' && s.resumed && !welcomed) {
      welcomed = true;
      announce('You are back in the room, in your place.');
    }
    draw(what);
  };
  const onEvent = (e) => {
    const m = e.detail;
    const d = m.data || {};
    if (m.kind === 'speak_invited' && s.you && d.user_id === s.you.id) {
      invitedBy = s.person(d.by).display_name;
      announce(`${invitedBy} invited you to speak.`);
      drawNotices();
    }
    if (m.kind === 'joined_stage' && s.you && d.user && d.user.id === s.you.id) announce('You are on stage, muted.');
    if (m.kind === 'removed' || m.kind === 'room_ended') return;
    if (m.kind === 'muted' && s.you && d.user_id === s.you.id && d.by) toast(d.held ? 'A moderator muted you and holds the mute.' : 'A moderator muted you.', 'info');
    if (m.kind === 'chat_muted' && s.you && d.user_id === s.you.id) toast(d.muted ? 'A moderator muted you in the chat.' : 'You can write in the chat again.', 'info');
    if (m.kind === 'link_pinned' && d.url) announce('A moderator pinned a link under the title.');
  };
  const onReactions = (e) => floatReactions(el, lane, e.detail);
  // A server error without a request: a notice about this connection. "blocked"
  // says why a join that would have put you on stage put you in the audience.
  const onServerError = (e) => toast(e.detail.message, e.detail.code === 'blocked' ? 'info' : 'error');

  // syncMic asks for the microphone when the user goes on stage, releases it in
  // the audience, and keeps the track's enabled flag in line with their mute.
  const syncMic = () => {
    const me = s.room && s.stageEntry();
    const nowOnStage = Boolean(me);
    if (nowOnStage && wasOnStage !== true) s.audio.getMic();
    if (!nowOnStage && wasOnStage === true) s.audio.releaseMic();
    if (s.room) wasOnStage = nowOnStage;
    s.audio.setMicEnabled(Boolean(me && !me.muted));
  };

  // speakingChanged announces who starts speaking, debounced: only someone new
  // who keeps speaking for a second, and at most one announcement at a time.
  const speakingChanged = () => {
    if (!s.room) return;
    const now = new Set(s.room.stage.filter(isSpeaking).map((p) => p.id));
    const started = [...now].filter((id) => !speaking.has(id));
    speaking = now;
    if (started.length === 0 || announceTimer) return;
    announceTimer = setTimeout(() => {
      announceTimer = 0;
      const still = started.filter((id) => speaking.has(id));
      if (still.length) announce(`${s.person(still[0]).display_name} is speaking`);
    }, 1000);
  };

  const online = () => s.reconnectNow();
  window.addEventListener('online', online);
  s.addEventListener('change', onChange);
  s.addEventListener('event', onEvent);
  s.addEventListener('servererror', onServerError);
  s.addEventListener('reactions', onReactions);
  syncMic();
  draw();

  return {
    title: s.room ? s.room.title : 'Room',
    el,
    destroy() {
      setAvatarScope([]);
      s.removeEventListener('change', onChange);
      s.removeEventListener('event', onEvent);
      s.removeEventListener('servererror', onServerError);
      s.removeEventListener('reactions', onReactions);
      window.removeEventListener('online', online);
      chat.destroy();
      reactions.destroy();
      clearTimeout(announceTimer);
      invs.destroy();
    },
  };
}
