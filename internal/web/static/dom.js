// A small DOM helper. Every string becomes a text node: user data is never
// parsed as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

// h builds an element. props: class, text, on<Event>: handler, and any other key
// as an attribute (false/null/undefined skip it, true sets it empty).
// children: nodes, strings (as text), arrays, or null/false (skipped).
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

function setProps(el, props) {
  if (!props) return;
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'text') el.textContent = String(v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected') { el[k] = Boolean(v); if (v) el.setAttribute(k, ''); }
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

// append adds children to el (strings as text nodes).
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false || c === true) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// replace empties el and appends children.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// The icons the app draws, as SVG path data (24x24, stroked).
const ICONS = {
  mic: ['M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z', 'M19 11a7 7 0 0 1-14 0', 'M12 18v3'],
  micOff: ['M3 3l18 18', 'M9 9v3a3 3 0 0 0 5.1 2.1', 'M15 10V6a3 3 0 0 0-5.7-1.3', 'M19 11a7 7 0 0 1-1.2 3.9', 'M5 11a7 7 0 0 0 11 5.7', 'M12 18v3'],
  hand: ['M8 13V5.5a1.5 1.5 0 0 1 3 0V11', 'M11 10.5V4a1.5 1.5 0 0 1 3 0v6.5', 'M14 10.5V5.5a1.5 1.5 0 0 1 3 0V12', 'M17 9.5a1.5 1.5 0 0 1 3 0V15a6 6 0 0 1-6 6h-1.5a6 6 0 0 1-4.6-2.2L4.4 15a1.5 1.5 0 0 1 2.3-1.9L8 14.5'],
  bell: ['M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9', 'M10.3 21a1.9 1.9 0 0 0 3.4 0'],
  leave: ['M15 4h4a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1h-4', 'M10 17l-5-5 5-5', 'M5 12h11'],
  plus: ['M12 5v14', 'M5 12h14'],
  people: ['M16 20v-1a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v1', 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M22 20v-1a4 4 0 0 0-3-3.9', 'M16 3.1a4 4 0 0 1 0 7.8'],
  star: ['M12 3l2.8 5.7 6.2.9-4.5 4.4 1 6.2L12 17.3 6.5 20.2l1-6.2L3 9.6l6.2-.9z'],
  more: ['M5 12h.01', 'M12 12h.01', 'M19 12h.01'],
  invite: ['M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2', 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M19 8v6', 'M22 11h-6'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  wifiOff: ['M3 3l18 18', 'M8.5 16.4a5 5 0 0 1 7 0', 'M5 12.6a10 10 0 0 1 4.5-2.5', 'M19 12.6a10 10 0 0 0-2.3-1.6', 'M2 8.8a15 15 0 0 1 4.2-2.7', 'M22 8.8A15 15 0 0 0 11 5', 'M12 20h.01'],
  down: ['M12 5v14', 'M19 12l-7 7-7-7'],
  lock: ['M5 11h14v10H5z', 'M8 11V7a4 4 0 0 1 8 0v4'],
  globe: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M3 12h18', 'M12 3a14 14 0 0 1 0 18', 'M12 3a14 14 0 0 0 0 18'],
  link: ['M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7', 'M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7'],
  search: ['M11 19a8 8 0 1 0 0-16 8 8 0 0 0 0 16z', 'M21 21l-4.3-4.3'],
  calendar: ['M4 6h16v14H4z', 'M4 10h16', 'M8 3v4', 'M16 3v4'],
  gear: ['M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z', 'M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z'],
  download: ['M12 3v12', 'M7 10l5 5 5-5', 'M5 21h14'],
  swap: ['M7 7h13', 'M16 3l4 4-4 4', 'M17 17H4', 'M8 13l-4 4 4 4'],
  flag: ['M5 21V4', 'M5 4h11l-2 4 2 4H5'],
  camera: ['M4 8h3l2-3h6l2 3h3v11H4z', 'M12 17a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z'],
  shield: ['M12 3l8 3v6c0 4.5-3.4 8-8 9-4.6-1-8-4.5-8-9V6z'],
  club: ['M12 3l8 4v6c0 4-3.5 7-8 8-4.5-1-8-4-8-8V7z', 'M9 12l2 2 4-4'],
  share: ['M4 12v7a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-7', 'M16 6l-4-4-4 4', 'M12 2v13'],
  chat: ['M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z'],
  play: ['M7 4l13 8-13 8z'],
};

// icon draws a decorative icon (hidden from assistive technology: the button
// around it carries the name).
export function icon(name, cls = '') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon ' + cls);
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    svg.appendChild(p);
  }
  return svg;
}

// initials of a display name: up to two letters.
export function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : [parts[0] || '?'];
  return letters.map((p) => Array.from(p)[0] || '').join('').toUpperCase() || '?';
}

// HUES is how many avatar colours there are (style.css, .hue-0 to .hue-15).
const HUES = 16;

// hue picks an avatar colour from an ID, the same one every time.
function hue(id) {
  let n = 0;
  for (const ch of String(id || '')) n = (n * 31 + ch.charCodeAt(0)) >>> 0;
  return n % HUES;
}

// scope holds the colours of the people in the room on screen, so that two of
// them rarely share one (setAvatarScope).
let scope = new Map();

// setAvatarScope gives the people of one room (in the order they came) distinct
// colours while there are colours enough: each keeps their own colour unless
// someone earlier in the list has it, then takes the next free one. Outside a
// room (an empty list), everyone has their own colour.
export function setAvatarScope(people) {
  const next = new Map();
  const used = new Set();
  for (const p of people || []) {
    if (!p || next.has(p.id)) continue;
    let c = hue(p.id);
    if (used.size < HUES) while (used.has(c)) c = (c + 5) % HUES; // 5 and 16 are coprime: every colour comes round
    used.add(c);
    next.set(p.id, c);
  }
  scope = next;
}

// photoURL is where a person's photo is served at px pixels (96, 256, 512).
export function photoURL(person, px) {
  return `/api/v1/photos/${encodeURIComponent(person.photo)}/${px}`;
}

const PHOTO_PX = { xs: 96, sm: 96, md: 96, lg: 256, xl: 256, xxl: 512 };

// avatar draws a person's photo, or their initials on a colour of their own.
export function avatar(person, size = 'md') {
  const id = person && person.id;
  const colour = scope.has(id) ? scope.get(id) : hue(id);
  if (person && person.photo && /^[0-9a-f]{32}$/.test(person.photo)) {
    return h('span', { class: `avatar avatar-${size} avatar-photo hue-${colour}`, 'aria-hidden': 'true' },
      h('img', { src: photoURL(person, PHOTO_PX[size] || 256), alt: '', loading: 'lazy', decoding: 'async', draggable: 'false' }));
  }
  return h('span', { class: `avatar avatar-${size} hue-${colour}`, 'aria-hidden': 'true' },
    initials(person && (person.display_name || person.username)));
}

// link is an in-app link (the router handles the click).
export function link(href, props, ...children) {
  return h('a', { href, ...props }, ...children);
}

// timeAgo says how long ago an ISO time was, in words.
export function timeAgo(iso) {
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

// plural: "1 listener", "3 listeners".
export function plural(n, word, many = word + 's') {
  return `${n} ${n === 1 ? word : many}`;
}
