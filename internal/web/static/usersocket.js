// The user socket (GET /api/v1/socket): the live hallway and notifications for
// the signed-in user, reconnecting on its own.

import { app, emit, backoff } from './state.js';
import { get, ApiError } from './api.js';

export class UserSocket {
  constructor() {
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.stopped = false;
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
    ws.addEventListener('open', () => { this.attempt = 0; });
    ws.addEventListener('message', (e) => this.onMessage(e.data));
    ws.addEventListener('close', () => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      this.retry();
    });
  }

  async retry() {
    const n = this.attempt++;
    if (n >= 2) {
      // The session may be gone (signed out elsewhere, account disabled).
      try {
        await get('/me');
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          emit('signed-out');
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
        if (m.reason === 'shutdown') this.attempt = 0;
        break;
    }
  }
}
