// The room across page loads and across tabs.
//
// A tab remembers the room it is in, with the time (sessionStorage: this tab
// only, kept across a reload and by a tab the browser reopens), so that a reload
// puts the user back in the room without a click: within the server's grace
// window the server keeps their place and role, and the welcome says
// "resumed" (docs/protocol.md, "The grace window").
//
// Tabs of one browser also tell each other, over a BroadcastChannel, which room
// each plays (a note in localStorage says which one a tab played lately, so
// that a tab asks only when the answer may be yes). A second tab that opens a room the first one plays offers to
// "listen here instead" rather than taking the room's socket over silently (the
// server lets one connection per person play a room, and closes the older one
// with bye "replaced").

import { app } from './state.js';

const KEY = 'townhall.room';

// PLAYING names, in localStorage (every tab of the browser reads it), the room
// a tab plays and when it last said so: a tab asks the others only when it may
// be so, and opens every other room's page without waiting for their silence.
const PLAYING = 'townhall.playing';
const PLAYING_FRESH = 15 * 1000; // a tab says it every 5 s while it plays

// REPLACED names, in sessionStorage (this tab only), the room another tab took
// from this one and when: a reload of that room's page asks the other tabs even
// if the note in localStorage has not reached this tab yet (another tab's
// writes reach it a moment later, and a reload can come first).
const REPLACED = 'townhall.replaced';

// RESUME_HERE is how long after the tab last played a room a reload of that
// room's page rejoins it at once: the tab was in the room and never left it.
export const RESUME_HERE = 10 * 60 * 1000;

// RESUME_ELSEWHERE is how long a tab reopened on another page (the hallway, a
// profile) rejoins the room in the background: the server's default grace
// window (--grace, 15 s), within which it keeps the user's place.
export const RESUME_ELSEWHERE = 15 * 1000;

// ASK_FOR is how long a tab waits for another one to say it plays a room:
// tabs of one browser answer within milliseconds, but a background tab on a
// busy machine took over 250 ms. The wait comes only when the note in
// localStorage says another tab played this room lately.
const ASK_FOR = 1000;

const tabID = Math.random().toString(36).slice(2) + Date.now().toString(36);
const channel = 'BroadcastChannel' in window ? new BroadcastChannel('townhall-rooms') : null;
const asking = new Map(); // room ID → resolve of playingElsewhere

// remembered is the room this tab was in, {id, guest, at}, or null.
export function remembered() {
  try {
    const m = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    return m && typeof m.id === 'string' && typeof m.at === 'number' ? m : null;
  } catch {
    return null;
  }
}

// write remembers session s for this tab, and tells the others that this tab
// plays it, unless it is going away.
function write(s, going = false) {
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ id: s.id, guest: s.guest, at: Date.now() }));
    if (going) stopPlaying();
    else {
      localStorage.setItem(PLAYING, JSON.stringify({ room: s.id, tab: tabID, at: Date.now() }));
      sessionStorage.removeItem(REPLACED); // this tab plays a room again
    }
  } catch { /* storage full or off: a reload shows the room's page instead */ }
}

function stopPlaying() {
  const p = JSON.parse(localStorage.getItem(PLAYING) || 'null');
  if (p && p.tab === tabID) localStorage.removeItem(PLAYING);
}

function forget(id) {
  try {
    const m = remembered();
    if (m && m.id === id) sessionStorage.removeItem(KEY);
    stopPlaying();
  } catch { /* storage off */ }
}

// mayPlayElsewhere reports whether another tab may play room id: one said so
// lately (or storage cannot tell).
function mayPlayElsewhere(id) {
  try {
    const r = JSON.parse(sessionStorage.getItem(REPLACED) || 'null');
    if (r && r.room === id && Date.now() - r.at < PLAYING_FRESH) return true;
    const p = JSON.parse(localStorage.getItem(PLAYING) || 'null');
    return Boolean(p && p.room === id && p.tab !== tabID && Date.now() - p.at < PLAYING_FRESH);
  } catch {
    return true;
  }
}

// resumable reports whether a page of room id (here) or another page should
// rejoin the room the tab remembers, as guest or not.
export function resumable(id, guest, here) {
  const m = remembered();
  if (!m || m.id !== id || Boolean(m.guest) !== guest) return false;
  return Date.now() - m.at < (here ? RESUME_HERE : RESUME_ELSEWHERE);
}

// track remembers session s while it lasts: from its first snapshot, refreshed
// every few seconds and when the page goes away, forgotten when it is over
// (the user left, was removed, the room ended, or another tab took it).
export function track(s) {
  let timer = 0;
  const hide = () => { if (s.status !== 'over' && s.joinedOnce) write(s, true); };
  const onChange = (e) => {
    if (s.status === 'over') {
      clearInterval(timer);
      forget(s.id);
      if (s.ending === 'replaced') {
        try { sessionStorage.setItem(REPLACED, JSON.stringify({ room: s.id, at: Date.now() })); } catch { /* storage off */ }
      }
      window.removeEventListener('pagehide', hide);
      s.removeEventListener('change', onChange);
      return;
    }
    if (e.detail === 'snapshot') {
      write(s);
      if (!timer) timer = setInterval(() => write(s), 5000);
    }
  };
  s.addEventListener('change', onChange);
  window.addEventListener('pagehide', hide);
}

// playingElsewhere asks the other tabs whether one of them plays room id; it
// resolves to true when one says so, false after a moment of silence.
export function playingElsewhere(id) {
  if (!channel || !mayPlayElsewhere(id)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (yes) => { asking.delete(id); resolve(yes); };
    const timer = setTimeout(() => done(false), ASK_FOR);
    asking.set(id, (yes) => { clearTimeout(timer); done(yes); });
    channel.postMessage({ type: 'who', room: id, from: tabID });
  });
}

// takingOver tells the other tabs that this one plays room id now: the one
// that played it shows it plays elsewhere (the server's bye follows).
export function takingOver(id) {
  if (channel) channel.postMessage({ type: 'taken', room: id, from: tabID });
}

if (channel) {
  channel.addEventListener('message', (e) => {
    const m = e.data || {};
    const s = app.room;
    const playing = s && s.id === m.room && s.status !== 'over';
    if (m.type === 'who' && playing) channel.postMessage({ type: 'here', room: m.room, from: tabID, to: m.from });
    if (m.type === 'here' && m.to === tabID && asking.has(m.room)) asking.get(m.room)(true);
    if (m.type === 'taken' && playing) s.elsewhere = 'tab';
  });
}
