// RoomSession is the user's presence in one live room: the room socket
// (internal/live), the room as the server last described it (snapshot + events),
// reconnection within the server's grace window, and the audio link.
//
// Server messages: welcome, snapshot, event{seq,kind,data}, ok, error, pong, bye,
// offer, candidate, active_speakers. Client messages: {type, id, ...}.

import { backoff } from './state.js';
import { get, sentence, ApiError } from './api.js';
import { AudioLink } from './audio.js';

// Close codes of the room socket (internal/live/conn.go).
const CLOSE_REPLACED = 4001;
const CLOSE_REMOVED = 4003;
const CLOSE_ENDED = 4004;

// Errors that end a join for good: retrying cannot help.
const FATAL_JOIN = {
  removed_from_room: 'removed',
  room_ended: 'ended',
  not_found: 'ended',
};

// The words for a room that is over for this user.
export const ENDINGS = {
  ended: 'This room has ended.',
  removed: 'A moderator removed you from this room. You cannot rejoin it.',
  left: 'You left the room.',
  replaced: 'You joined this room from another tab or device, so this page stopped listening.',
  error: 'Could not join this room.',
};

let nextID = 0;

export class RoomSession extends EventTarget {
  constructor(roomID, { guest = false } = {}) {
    super();
    this.id = roomID;
    this.guest = guest;
    this.you = null;
    this.room = null; // the snapshot's room, kept up to date by events
    this.seq = 0;
    this.status = 'connecting'; // connecting, live, reconnecting, over
    this.ending = ''; // when over: a key of ENDINGS
    this.endingText = '';
    this.attempt = 0;
    this.timer = 0;
    this.pending = new Map(); // request id → {resolve, reject}
    this.speaking = new Set(); // user ids the server says are speaking now (active_speakers)
    this.ws = null;
    this.joinedOnce = false;
    this.audio = new AudioLink(this);
  }

  // start opens the socket: joining the room.
  start() {
    this.connect();
  }

  connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = this.guest ? '?guest=1' : '';
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/rooms/${encodeURIComponent(this.id)}/socket${q}`, 'townhall.v1');
    this.ws = ws;
    this.bye = '';
    this.joinError = null;
    this.welcomed = false;
    ws.addEventListener('message', (e) => { if (this.ws === ws) this.onMessage(e.data); });
    ws.addEventListener('close', (e) => { if (this.ws === ws) this.onClose(e); });
  }

  // changed tells the views to redraw.
  changed(what = 'state') {
    this.dispatchEvent(new CustomEvent('change', { detail: what }));
  }

  // send sends a client message; it resolves on the server's ok and rejects
  // with the server's error message.
  send(type, fields = {}) {
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        reject(new Error('Not connected to the room right now. Wait for it to reconnect.'));
        return;
      }
      const id = 'c' + ++nextID;
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ type, id, ...fields }));
    });
  }

  // signal sends a message that gets no ok (audio negotiation).
  signal(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  // leave leaves the room for good.
  async leave() {
    if (this.status === 'over') return;
    try {
      await Promise.race([this.send('leave'), new Promise((r) => setTimeout(r, 1500))]);
    } catch {
      // not connected: the server drops us after its grace window
    }
    this.finish('left');
  }

  // finish ends the session on this page.
  finish(ending, text) {
    clearTimeout(this.timer);
    this.status = 'over';
    this.ending = ending;
    this.endingText = text || ENDINGS[ending] || ENDINGS.error;
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, 'done');
    for (const p of this.pending.values()) p.reject(new Error(this.endingText));
    this.pending.clear();
    this.audio.close();
    this.changed('over');
  }

  onMessage(raw) {
    let m;
    try {
      m = JSON.parse(raw);
    } catch {
      return;
    }
    switch (m.type) {
      case 'welcome':
        this.welcomed = true;
        this.you = m.you;
        this.attempt = 0;
        this.resumed = m.resumed;
        break;
      case 'snapshot':
        this.room = m.room;
        this.seq = m.seq;
        this.status = 'live';
        if (!this.joinedOnce) this.joinedOnce = true;
        this.changed('snapshot');
        break;
      case 'event':
        if (!this.room) return;
        if (m.seq !== this.seq + 1) {
          // A gap: the server dropped messages for us. Ask for the whole room.
          this.signal({ type: 'snapshot' });
          return;
        }
        this.seq = m.seq;
        this.apply(m.kind, m.data || {});
        this.changed(m.kind);
        this.dispatchEvent(new CustomEvent('event', { detail: m }));
        break;
      case 'ok': {
        const p = this.pending.get(m.id);
        if (p) { this.pending.delete(m.id); p.resolve(m); }
        break;
      }
      case 'error': {
        const p = m.id && this.pending.get(m.id);
        const err = Object.assign(new Error(sentence(m.message || 'The server refused that.')), { code: m.code });
        if (p) { this.pending.delete(m.id); p.reject(err); break; }
        if (!this.room) this.joinError = err; // the join itself was refused
        else this.dispatchEvent(new CustomEvent('servererror', { detail: err }));
        break;
      }
      case 'bye':
        this.bye = m.reason;
        break;
      case 'offer':
      case 'candidate':
        this.audio.onSignal(m);
        break;
      case 'active_speakers':
        // Sent when who is heard or who is speaking changes; it replaces the last one.
        this.speaking = new Set((m.slots || []).filter((s) => s.user_id && s.speaking).map((s) => s.user_id));
        this.changed('speaking');
        break;
    }
  }

  onClose(e) {
    this.ws = null;
    for (const p of this.pending.values()) p.reject(new Error('The connection to the room dropped.'));
    this.pending.clear();
    const reason = this.bye;
    if (this.joinError) {
      const fatal = FATAL_JOIN[this.joinError.code];
      if (fatal || !this.joinedOnce) {
        this.finish(fatal || 'error', fatal === 'removed' ? ENDINGS.removed : fatal ? ENDINGS.ended : this.joinError.message);
        return;
      }
    }
    if (e.code === CLOSE_REMOVED || reason === 'removed') return this.finish('removed');
    if (e.code === CLOSE_ENDED || reason === 'room_ended') return this.finish('ended');
    if (e.code === CLOSE_REPLACED || reason === 'replaced') return this.finish('replaced');
    if (reason === 'left') return this.finish('left');
    // Anything else is a lost connection: come back within the grace window to
    // keep our place.
    this.status = 'reconnecting';
    this.audio.reset();
    this.changed('connection');
    if (!this.welcomed && this.attempt > 0) {
      // The socket was refused before it opened: the room may be over (the
      // server answers the upgrade with an HTTP error a browser cannot read).
      this.checkRoom();
      return;
    }
    this.retry();
  }

  // checkRoom asks the API whether the room is still there before retrying.
  async checkRoom() {
    try {
      await get('/rooms/' + encodeURIComponent(this.id));
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 410)) return this.finish('ended');
      if (e instanceof ApiError && e.status === 401 && !this.guest) return this.finish('error', 'You were signed out. Log in again to rejoin.');
    }
    if (this.status === 'reconnecting') this.retry();
  }

  retry() {
    const wait = backoff(this.attempt++);
    this.nextRetryAt = Date.now() + wait;
    this.timer = setTimeout(() => {
      if (this.status !== 'over') this.connect();
    }, wait);
  }

  // reconnectNow skips the wait (the "Retry now" button, or the browser is back online).
  reconnectNow() {
    if (this.status !== 'reconnecting' || this.ws) return;
    clearTimeout(this.timer);
    this.connect();
  }

  // --- the room model -------------------------------------------------------

  // me is the user's own place in the room: their stage entry, or null.
  stageEntry(id = this.you && this.you.id) {
    return (this.room && this.room.stage.find((p) => p.id === id)) || null;
  }

  get role() {
    const s = this.stageEntry();
    return s ? s.role : 'listener';
  }

  get isModerator() { return this.role === 'moderator'; }
  get onStage() { return this.role !== 'listener'; }

  listener(id) {
    return this.room.listeners.find((p) => p.id === id) || null;
  }

  person(id) {
    if (!this.room) return { id, display_name: 'Someone' };
    return this.stageEntry(id) || this.listener(id) || this.room.raised_hands.find((p) => p.id === id) || { id, display_name: 'Someone' };
  }

  // apply updates the room with one event (kinds of internal/room/events.go).
  apply(kind, d) {
    const r = this.room;
    const dropListener = (id) => {
      const before = r.listeners.length;
      r.listeners = r.listeners.filter((p) => p.id !== id);
      return before !== r.listeners.length;
    };
    const lowerHand = (id) => { r.raised_hands = r.raised_hands.filter((p) => p.id !== id); };
    const uninvite = (id) => { r.speak_invitations = r.speak_invitations.filter((x) => x !== id); };
    const setStage = (id, f) => { const s = this.stageEntry(id); if (s) f(s); };
    switch (kind) {
      case 'joined_stage':
        r.stage = r.stage.filter((p) => p.id !== d.user.id);
        r.stage.push({ ...d.user, role: d.role, muted: d.muted, held: false, since: d.since });
        lowerHand(d.user.id);
        uninvite(d.user.id);
        break;
      case 'left_stage':
        r.stage = r.stage.filter((p) => p.id !== d.user_id);
        break;
      case 'listener_joined':
        if (!r.listeners.some((p) => p.id === d.user.id)) {
          r.listeners.push({ ...d.user, hand_raised: false });
          r.listener_count += 1;
        }
        break;
      case 'listener_left':
        if (dropListener(d.user_id) || r.listeners_cut) r.listener_count = Math.max(0, r.listener_count - 1);
        lowerHand(d.user_id);
        uninvite(d.user_id);
        break;
      case 'audience':
        r.listener_count = d.listener_count;
        // Names of individual listeners are no longer sent: refresh them now and then.
        if (!this.audienceRefresh) {
          this.audienceRefresh = setTimeout(() => { this.audienceRefresh = 0; this.signal({ type: 'snapshot' }); }, 5000);
        }
        break;
      case 'hand_raised': {
        const l = this.listener(d.user.id);
        if (l) l.hand_raised = true;
        if (!r.raised_hands.some((p) => p.id === d.user.id)) r.raised_hands.push(d.user);
        break;
      }
      case 'hand_lowered': {
        const l = this.listener(d.user_id);
        if (l) l.hand_raised = false;
        lowerHand(d.user_id);
        break;
      }
      case 'hand_policy_changed':
        r.hand_policy = d.policy;
        break;
      case 'guests_changed':
        r.allow_guests = d.allowed;
        r.guests_closed = !d.allowed;
        break;
      case 'speak_invited':
        if (!r.speak_invitations.includes(d.user_id)) r.speak_invitations.push(d.user_id);
        break;
      case 'speak_declined':
        uninvite(d.user_id);
        break;
      case 'moderator_added':
        setStage(d.user_id, (s) => { s.role = 'moderator'; });
        // A new moderator may now see pending invitations to speak.
        if (this.you && d.user_id === this.you.id) this.signal({ type: 'snapshot' });
        break;
      case 'moderator_removed':
        setStage(d.user_id, (s) => { s.role = 'speaker'; });
        break;
      case 'muted':
        setStage(d.user_id, (s) => { s.muted = true; s.held = Boolean(d.held); });
        break;
      case 'unmuted':
        setStage(d.user_id, (s) => { s.muted = false; s.held = false; });
        break;
      case 'mute_released':
        setStage(d.user_id, (s) => { s.held = false; });
        break;
      case 'removed':
        // Sent to the removed user only; the bye and close follow.
        this.bye = 'removed';
        break;
      case 'room_ended':
        r.state = 'ended';
        this.bye = 'room_ended';
        break;
    }
  }
}
