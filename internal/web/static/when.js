// Dates and time zones for scheduled events, with the browser's Intl only.
// A time the user types is a wall-clock time in a chosen IANA zone; the API
// takes RFC 3339 with the offset that zone has at that moment.

// browserZone is the IANA zone of this browser ("UTC" when it does not say).
export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

// zones lists the IANA zones the browser knows, with UTC and the browser's own.
export function zones() {
  let list = [];
  try {
    list = Intl.supportedValuesOf('timeZone');
  } catch {
    list = [];
  }
  const set = new Set(list);
  set.add('UTC');
  set.add(browserZone());
  return [...set].sort();
}

// wallParts is the wall-clock time in zone at the instant ms.
function wallParts(ms, zone) {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const p = {};
  for (const x of f.formatToParts(new Date(ms))) p[x.type] = x.value;
  return { y: +p.year, mo: +p.month, d: +p.day, h: +p.hour % 24, mi: +p.minute, s: +p.second };
}

// offsetMs is how far zone's wall clock is ahead of UTC at the instant ms.
function offsetMs(ms, zone) {
  const w = wallParts(ms, zone);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

const pad = (n, w = 2) => String(Math.abs(n)).padStart(w, '0');

// toRFC3339 turns a wall-clock time ("2026-12-01T20:00", as an
// <input type=datetime-local> gives it) in zone into RFC 3339 with that zone's
// offset ("2026-12-01T20:00:00+01:00"). A time skipped by a daylight-saving
// change moves forward, as clocks do.
export function toRFC3339(local, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || '');
  if (!m) return '';
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let utc = guess - offsetMs(guess, zone);
  utc = guess - offsetMs(utc, zone);
  const off = Math.round(offsetMs(utc, zone) / 60000);
  const w = wallParts(utc, zone);
  return `${w.y}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}:00${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

// toLocalInput is the instant iso as a wall-clock time in zone, for an
// <input type=datetime-local>.
export function toLocalInput(iso, zone) {
  const w = wallParts(new Date(iso).getTime(), zone);
  return `${w.y}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}`;
}

// soon is a sensible default start: the next quarter hour at least an hour away,
// as a wall-clock time in zone.
export function soon(zone) {
  const q = 15 * 60000;
  const ms = Math.ceil((Date.now() + 60 * 60000) / q) * q;
  return toLocalInput(new Date(ms).toISOString(), zone);
}

// nowLocal is now as a wall-clock time in zone (the earliest start a form takes).
export function nowLocal(zone) {
  return toLocalInput(new Date().toISOString(), zone);
}

// formatWhen says when an instant is, in the browser's zone ("Tue, 1 Dec, 20:00
// CET"); with zone, also the wall-clock time there if that differs.
export function formatWhen(iso, zone) {
  const d = new Date(iso);
  const opts = { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' };
  let s = new Intl.DateTimeFormat(undefined, opts).format(d);
  if (zone && zone !== browserZone()) {
    try {
      const there = new Intl.DateTimeFormat(undefined, { ...opts, weekday: undefined, month: undefined, day: undefined, timeZone: zone }).format(d);
      if (!s.endsWith(there)) s += ` (${there} for the host, ${zone})`;
    } catch {
      // an unknown zone: the browser's time is enough
    }
  }
  return s;
}

// untilWords says how soon an instant is: "in 25 min", "in 3 h", "tomorrow",
// "started".
export function untilWords(iso) {
  const s = (new Date(iso).getTime() - Date.now()) / 1000;
  if (s <= 0) return 'starting now';
  if (s < 3600) return `in ${Math.max(1, Math.round(s / 60))} min`;
  if (s < 86400) return `in ${Math.round(s / 3600)} h`;
  if (s < 2 * 86400) return 'tomorrow';
  return `in ${Math.round(s / 86400)} days`;
}
