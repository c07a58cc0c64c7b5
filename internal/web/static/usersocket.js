// The user socket (GET /api/v1/socket): the live hallway and notifications for
// the signed-in user, reconnecting on its own. Its bye says when to stop: the
// session ended (signed out elsewhere, password changed, expired) or the account
// was disabled; "moved" (the node it was on drains) means connect again at once.

import { app, emit, backoff } from './state.js';
import { get, ApiError } from './api.js';

// Close codes of the user socket (internal/live/conn.go closeCode).
const CLOSE_SESSION = 4005; // session_ended, account_disabled
const CLOSE_MOVED = 4006;

export class UserSocket {
  constructor() {
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.stopped = false;
    this.movedAt = 0; // when the last bye "moved" came
  }

  start() {
    this.stopped = false;
    if (!this.ws && !this.timer) this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.ws) this.ws.close(1000, 'bye');
    this.ws = null;
  }

  connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/socket`, 'townhall.v1');
    this.ws = ws;
    this.bye = '';
    ws.addEventListener('open', () => { this.attempt = 0; });
    ws.addEventListener('message', (e) => { if (this.ws === ws) this.onMessage(e.data); });
    ws.addEventListener('close', (e) => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      this.onClose(e);
    });
  }

  onClose(e) {
    const reason = this.bye;
    if (reason === 'session_ended' || reason === 'account_disabled' || e.code === CLOSE_SESSION) {
      this.stop();
      emit('signed-out', reason === 'account_disabled' ? 'disabled' : 'session_ended');
      return;
    }
    if (reason === 'moved' || e.code === CLOSE_MOVED) {
      // Our node drains: connect again at once (to another node), unless it
      // happened seconds ago too (then the backoff keeps us from looping).
      const again = Date.now() - this.movedAt < 3000;
      this.movedAt = Date.now();
      if (!again) {
        this.attempt = 0;
        this.connect();
        return;
      }
    }
    this.retry();
  }

  async retry() {
    const n = this.attempt++;
    if (n >= 2) {
      // The session may be gone without a bye (it expired while we were away).
      try {
        await get('/me');
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          this.stop();
          emit('signed-out', 'session_ended');
          return;
        }
      }
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => { this.timer = 0; this.connect(); }, backoff(n, 30000));
  }

  onMessage(raw) {
    let m;
    try {
      m = JSON.parse(raw);
    } catch {
      return;
    }
    switch (m.type) {
      case 'hallway':
        app.hallway = m.rooms || [];
        emit('hallway', app.hallway);
        break;
      case 'notification':
        if (m.notification && !m.notification.read) {
          app.unread += 1;
          emit('unread', app.unread);
        }
        emit('notification', m.notification);
        break;
      case 'bye':
        this.bye = m.reason;
        if (m.reason === 'shutdown') this.attempt = 0;
        break;
    }
  }
}
