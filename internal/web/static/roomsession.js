// RoomSession is the user's presence in one live room: the room socket
// (internal/live), the room as the server last described it (snapshot + events),
// reconnection within the server's grace window, and the audio link.
//
// Every connection, the first and each reconnection, starts with the join API
// (POST /api/v1/rooms/{id}/join), which names the socket of the node that runs
// the room now: in a cluster a room can move to another node between two
// connections (docs/cluster.md).
//
// Server messages: welcome, snapshot, event{seq,kind,data}, ok, error, pong, bye,
// offer, candidate, active_speakers, reactions, chat_history, caption. Client
// messages: {type, id, ...}.
//
// Live captions: when the moderators turned them on (room.live_captions) and the
// user turned CC on (ccOn), the socket asks for them (show_captions, again after
// each reconnection: the choice lives with the socket) and keeps the latest
// lines in captions.
//
// The backchannel (the chat and reactions) lives here too: the chat's messages
// are the snapshot's room.chat (oldest first), kept current by the chat and
// chat_deleted events, with older pages prepended by loadEarlier.

import { backoff } from './state.js';
import { post, sentence, enc, ApiError } from './api.js';
import { AudioLink } from './audio.js';
import { applyEvent } from './roomevents.js';

// Close codes of the room socket (internal/live/conn.go closeCode).
const CLOSE_REPLACED = 4001;
const CLOSE_REMOVED = 4003;
const CLOSE_ENDED = 4004;
const CLOSE_SESSION = 4005; // session_ended, account_disabled
const CLOSE_MOVED = 4006;

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
  replaced: 'You are listening to this room in another tab or on another device. Only one of them plays it at a time.',
  signed_out: 'You were signed out (this session ended). Log in again to rejoin.',
  disabled: 'You were signed out: an admin disabled your account.',
  error: 'Could not join this room.',
};

let nextID = 0;

// How many lines of live captions the room shows.
const CAPTION_LINES = 3;

// The reactions budget the page keeps to, below the server's (3 a second per
// socket, in bursts of 6: internal/live/backchannel.go), so that a tap is never
// refused for going too fast.
const REACT_RATE = 3; // a second
const REACT_BURST = 4;

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
    this.node = ''; // the cluster node whose socket this is (the join API's answer)
    this.connects = 0; // connect calls so far: an answer to an older one is dropped
    this.reconnectWhy = ''; // while reconnecting: 'moved' or 'dropped'
    this.movedAt = 0; // when the last bye "moved" came
    this.joinedOnce = false;
    this.hidden = new Set(); // authors whose chat messages this page hides (the user blocked them)
    this.chatStart = false; // the chat's first message is loaded: nothing earlier to load
    this.lastChatAt = 0; // when the user's last message was accepted, for the slow mode
    this.reactBucket = { tokens: REACT_BURST, at: 0 };
    this.ccOn = false; // the user turned CC on
    this.captions = []; // the latest caption lines, oldest first: {speaker, text, at}
    this.audio = new AudioLink(this);
  }

  // start opens the socket: joining the room.
  start() {
    this.connect();
  }

  // connect asks the join API where the room runs, then opens its socket there.
  // A refusal that cannot change ends the session; anything else (the server
  // unreachable, 503 while the room moves between nodes, too many requests) is
  // retried with backoff, like a dropped socket.
  async connect() {
    const token = ++this.connects; // a newer connect, or finish, makes this one moot
    const stale = () => token !== this.connects || this.status === 'over';
    this.bye = '';
    this.joinError = null;
    this.welcomed = false;
    let where;
    try {
      where = await post(`/rooms/${enc(this.id)}/join${this.guest ? '?guest=1' : ''}`);
    } catch (e) {
      if (stale()) return;
      this.joinFailed(e);
      return;
    }
    if (stale()) return;
    const ws = new WebSocket(where.socket_url, 'townhall.v1');
    this.ws = ws;
    this.node = where.node;
    ws.addEventListener('message', (e) => { if (this.ws === ws) this.onMessage(e.data); });
    ws.addEventListener('close', (e) => { if (this.ws === ws) this.onClose(e); });
  }

  // joinFailed handles a join API call that did not name a socket.
  joinFailed(e) {
    const status = e instanceof ApiError ? e.status : 0;
    if (status === 404 || status === 410) return this.finish('ended');
    if (status === 401 && !this.guest) return this.finish('signed_out');
    const retryable = status === 0 || status === 429 || status >= 500;
    if (!retryable) return this.finish('error', e.message || ENDINGS.error);
    this.reconnecting(this.status === 'reconnecting' ? '' : 'dropped');
    this.retry();
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
    this.connects++; // a join API call in flight opens no socket now
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
        m.room.chat = this.mergeChat(m.room.chat || []);
        this.room = m.room;
        this.seq = m.seq;
        this.status = 'live';
        if (!this.joinedOnce) this.joinedOnce = true;
        this.syncCaptions();
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
      case 'ok':
      case 'chat_history':
      case 'audience': {
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
      case 'caption':
        // A line of live captions (not an event: no seq).
        if (!this.ccOn || !this.room) return;
        this.captions.push({ speaker: m.speaker || {}, text: m.text || '', at: Date.now() });
        if (this.captions.length > CAPTION_LINES) this.captions.splice(0, this.captions.length - CAPTION_LINES);
        this.changed('captions');
        break;
      case 'reactions':
        // A tally of the last moment's reactions; not an event (no seq): a lost
        // one is no gap.
        if (this.room) this.dispatchEvent(new CustomEvent('reactions', { detail: m }));
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
    if (reason === 'account_disabled') return this.finish('disabled');
    if (e.code === CLOSE_SESSION || reason === 'session_ended') return this.finish('signed_out');
    if (e.code === CLOSE_MOVED || reason === 'moved') {
      // The room runs on another node now and kept our place: ask the join API
      // where, at once (the node that sent us away answers it too). Twice in a
      // row within seconds is a cluster in trouble: back off then.
      const again = Date.now() - this.movedAt < 3000;
      this.movedAt = Date.now();
      this.reconnecting('moved');
      if (again) return this.retry();
      this.attempt = 0;
      this.connect();
      return;
    }
    // Anything else is a lost connection (a network drop, a node that died, a
    // socket refused before it opened): come back within the grace window to
    // keep our place, through the join API, which says whether the room is
    // still there and where it runs now.
    this.reconnecting('dropped');
    this.retry();
  }

  // reconnecting shows the session as coming back; why ('moved' or 'dropped')
  // says what the page tells the user, and stays until the next welcome.
  reconnecting(why) {
    this.status = 'reconnecting';
    if (why) this.reconnectWhy = why;
    this.audio.reset();
    this.changed('connection');
  }

  // retry connects again after the backoff of this attempt, randomized by ±50 %
  // so that the listeners of a room that lost its node do not all come back at
  // the same moment.
  retry() {
    clearTimeout(this.timer);
    const wait = backoff(this.attempt++, 8000); // at most 12 s, inside the 15 s grace window
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

  // --- live captions ---------------------------------------------------------

  // setCC turns the user's captions on or off.
  setCC(on) {
    this.ccOn = on;
    if (!on) this.captions = [];
    this.syncCaptions();
    this.changed('captions');
  }

  // syncCaptions asks the server for the captions, or to stop, when the
  // socket's choice (room.captions_shown) differs from the user's.
  syncCaptions() {
    const r = this.room;
    if (!r || !r.live_captions) return;
    const want = this.ccOn;
    if (Boolean(r.captions_shown) === want) return;
    r.captions_shown = want;
    this.send('show_captions', { on: want }).catch(() => { r.captions_shown = !want; });
  }

  // --- the backchannel --------------------------------------------------------

  // mergeChat is the chat of a new snapshot: its latest messages, after the
  // earlier ones already loaded (a resync or a reconnection keeps what the user
  // paged back to), without the authors this page hides.
  mergeChat(latest) {
    const old = (this.room && this.room.chat) || [];
    if (latest.length === 0) return [];
    const first = Date.parse(latest[0].at);
    const ids = new Set(latest.map((m) => m.id));
    const earlier = old.filter((m) => !ids.has(m.id) && Date.parse(m.at) < first);
    return [...earlier, ...latest].filter((m) => !this.hidden.has(m.user_id));
  }

  // hideAuthor hides a person's chat messages at once (the user just blocked
  // them; the server hides their next ones); showAuthor undoes it for the next.
  hideAuthor(id) {
    this.hidden.add(id);
    if (this.room) this.room.chat = this.room.chat.filter((m) => m.user_id !== id);
    this.changed('chat');
  }

  showAuthor(id) { this.hidden.delete(id); }

  // loadEarlier prepends the page of messages before the oldest one shown; it
  // resolves to how many came.
  async loadEarlier() {
    const chat = this.room.chat;
    const fields = chat.length ? { before: chat[0].id } : {};
    const page = await this.send('chat_history', fields);
    const have = new Set(this.room.chat.map((m) => m.id));
    const older = (page.messages || []).filter((m) => !have.has(m.id) && !this.hidden.has(m.user_id)).reverse(); // they come newest first
    this.room.chat = [...older, ...this.room.chat];
    this.chatStart = !page.more;
    this.changed('chat-history');
    return older.length;
  }

  // loadMoreListeners adds the next page of the audience, after the last one
  // listed (a snapshot lists the first 500); it resolves to how many came. If
  // that one left meanwhile, a fresh snapshot lists the first ones again.
  async loadMoreListeners() {
    const ls = this.room.listeners;
    let page;
    try {
      page = await this.send('audience', ls.length ? { after: ls[ls.length - 1].id } : {});
    } catch (err) {
      if (err.code !== 'conflict') throw err;
      this.signal({ type: 'snapshot' });
      return 0;
    }
    const have = new Set(this.room.listeners.map((p) => p.id));
    const more = (page.listeners || []).filter((p) => !have.has(p.id));
    this.room.listeners = [...this.room.listeners, ...more];
    this.room.listener_count = page.listener_count;
    this.changed('audience');
    return more.length;
  }

  // trimChat forgets all but the latest keep messages of the chat (the chat's
  // view asks, while the user reads its end: a long, busy room must not grow
  // the page without bound); "Load earlier messages" brings them back.
  trimChat(keep) {
    const r = this.room;
    if (!r || r.chat.length <= keep) return;
    r.chat.splice(0, r.chat.length - keep);
    this.chatStart = false;
  }

  // postChat writes a message in the chat. As the server does, it notes when
  // only while a slow mode is on.
  async postChat(text) {
    await this.send('chat', { text });
    if (this.room && this.room.slow_seconds > 0) this.lastChatAt = Date.now();
  }

  // chatMuted reports whether a moderator muted the user in the chat.
  get chatMuted() {
    return Boolean(this.room && this.you && (this.room.chat_muted || []).includes(this.you.id));
  }

  // slowWait is how many seconds the slow mode keeps the user from writing.
  slowWait() {
    const slow = (this.room && this.room.slow_seconds) || 0;
    if (!slow || !this.lastChatAt) return 0;
    return Math.max(0, Math.ceil(slow - (Date.now() - this.lastChatAt) / 1000));
  }

  // cannotWrite says, in words, why the user may not write in the chat now
  // (the room's rule: internal/room/backchannel.go), or '' when they may.
  // key is a stable name of the reason.
  cannotWrite() {
    const r = this.room;
    if (!r) return { key: 'joining', text: 'Joining the room…' };
    if (this.guest) return { key: 'guest', text: 'Guests can read the chat. Log in to write.' };
    if (r.chat_mode === 'off') return { key: 'off', text: 'The moderators turned the chat off.' };
    if (r.chat_mode === 'speakers' && !this.onStage) return { key: 'speakers', text: 'Only the people on stage can write in this chat.' };
    if (this.chatMuted) return { key: 'muted', text: 'A moderator muted you in the chat.' };
    if (this.status !== 'live') return { key: 'offline', text: 'Reconnecting… you can write again in a moment.' };
    const wait = this.slowWait();
    if (wait > 0) return { key: 'slow', text: `Slow mode: you can write again in ${wait} s.` };
    return null;
  }

  // react sends a reaction, unless it would go over the budget: it reports
  // whether it was sent. The server answers only a refusal.
  react(emoji) {
    const b = this.reactBucket;
    const now = Date.now();
    b.tokens = Math.min(REACT_BURST, b.tokens + ((now - b.at) / 1000) * REACT_RATE);
    b.at = now;
    if (b.tokens < 1 || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    b.tokens -= 1;
    this.signal({ type: 'react', emoji });
    return true;
  }

  // reactWait is how many milliseconds until the next reaction may go.
  reactWait() {
    const b = this.reactBucket;
    const tokens = b.tokens + ((Date.now() - b.at) / 1000) * REACT_RATE;
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / REACT_RATE) * 1000);
  }

  // apply updates the room with one event (roomevents.js).
  apply(kind, d) { applyEvent(this, kind, d); }
}
