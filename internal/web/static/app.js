// townhall's browser app: boot, the header, the router and the page frame.
// Views live in views/*.js; each returns {el, title, destroy?}.

import { h, replace, icon, avatar } from './dom.js';
import { get, post, ApiError } from './api.js';
import { app, emit, on, toast, clearToasts } from './state.js';
import { UserSocket } from './usersocket.js';
import { hallwayView } from './views/hallway.js';
import { joinView } from './views/join.js';
import { loginView } from './views/login.js';
import { roomView, joinRoom } from './views/room.js';
import { remembered, resumable, playingElsewhere } from './roomtabs.js';
import { clipView } from './views/replay.js';
import { profileView } from './views/profile.js';
import { notificationsView } from './views/notifications.js';
import { invitationView } from './views/invitation.js';
import { invitationPageView } from './views/invitationpage.js';
import { invitationsView, inviteFriendsSheet } from './views/invitations.js';
import { eventsView, eventView } from './views/events.js';
import { clubsView, clubView } from './views/clubs.js';
import { settingsView } from './views/settings.js';
import { searchView } from './views/search.js';
import { adminView } from './views/admin.js';
import { resetView } from './views/reset.js';
import { sheet } from './views/ui.js';
import { loadDelegations, actAs, clearActing } from './acting.js';

const NAME = document.getElementById('app').dataset.name || 'townhall';

// routes: path pattern, view, and whether it needs a signed-in user.
const routes = [
  [/^\/$/, hallwayView, true],
  [/^\/join\/([^/]+)$/, joinView, false],
  [/^\/login$/, loginView, false],
  [/^\/rooms\/([^/]+)$/, roomView, false],
  [/^\/clips\/([^/]+)$/, clipView, false],
  [/^\/u\/([^/]+)$/, profileView, true],
  [/^\/notifications$/, notificationsView, true],
  [/^\/invitations$/, invitationsView, true],
  [/^\/invitations\/([^/]+)$/, invitationView, true],
  [/^\/i\/([^/]+)$/, invitationPageView, false],
  [/^\/events$/, eventsView, true],
  [/^\/events\/([^/]+)$/, eventView, true],
  [/^\/clubs$/, clubsView, true],
  [/^\/clubs\/([^/]+)$/, clubView, true],
  [/^\/settings$/, settingsView, true],
  [/^\/search$/, searchView, true],
  [/^\/admin$/, adminView, true],
  [/^\/reset\/([^/]+)$/, resetView, false],
];

let frame; // {header, banner, main, minibar}
let current = null; // the view on screen
let renderToken = 0;

function buildFrame() {
  const root = document.getElementById('app');
  frame = {
    header: h('header', { class: 'topbar' }),
    banner: h('div', { class: 'banner-slot' }),
    main: h('main', { id: 'main', class: 'page', tabindex: '-1' }),
    minibar: h('div', { class: 'minibar-slot' }),
  };
  replace(root,
    frame.header, frame.banner, frame.main, frame.minibar,
    h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite' }),
    h('div', { id: 'announcer', class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true' }));
}

// SECTIONS are the app's main pages, as tabs under the header.
const SECTIONS = [['/', 'Hallway'], ['/events', 'Events'], ['/clubs', 'Clubs']];

let headerKey = '';

// renderHeader draws the header when what it shows changed (redrawing it for
// nothing would replace a link under the pointer).
function renderHeader() {
  const key = JSON.stringify([app.me && [app.me.id, app.me.display_name, app.me.username, app.me.photo, app.me.is_admin],
    app.delegations.map((d) => d.account.username), app.acting && app.acting.account.username]);
  if (key !== headerKey) {
    headerKey = key;
    buildHeader();
  }
  updateHeader();
}

// updateHeader sets what changes often in place: the unread badge and the
// current tab.
function updateHeader() {
  const bell = frame.header.querySelector('[data-testid=bell]');
  if (bell) {
    bell.setAttribute('aria-label', app.unread > 0 ? `Notifications, ${app.unread} unread` : 'Notifications');
    let badge = bell.querySelector('.badge');
    if (app.unread > 0) {
      if (!badge) badge = bell.appendChild(h('span', { class: 'badge', 'aria-hidden': 'true' }));
      badge.textContent = app.unread > 99 ? '99+' : String(app.unread);
    } else if (badge) {
      badge.remove();
    }
  }
  const here = location.pathname;
  for (const a of frame.header.querySelectorAll('.tabs a.tab')) {
    const href = a.getAttribute('href');
    const current = href === '/' ? here === '/' : here === href || here.startsWith(href + '/');
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function buildHeader() {
  const nav = h('nav', { class: 'topnav', 'aria-label': 'Account' });
  let tabs = null;
  if (app.me) {
    const q = h('input', { type: 'search', name: 'q', class: 'search-input', placeholder: 'Search', 'aria-label': 'Search people, clubs and events', maxlength: 100, autocomplete: 'off' });
    if (location.pathname === '/search') q.value = new URLSearchParams(location.search).get('q') || '';
    const search = h('form', { class: 'top-search', role: 'search' }, icon('search'), q);
    search.addEventListener('submit', (e) => {
      e.preventDefault();
      navigate('/search?q=' + encodeURIComponent(q.value.trim()));
    });
    nav.append(
      search,
      h('a', { href: '/search', class: 'icon-btn search-link', 'aria-label': 'Search' }, icon('search')),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Invite friends', title: 'Invite friends', 'data-testid': 'invite-friends', onclick: inviteFriendsSheet }, icon('invite')),
      h('a', { href: '/notifications', class: 'icon-btn bell', 'aria-label': 'Notifications', 'data-testid': 'bell' }, icon('bell')),
      h('a', { href: '/settings', class: 'icon-btn', 'aria-label': 'Settings', 'data-testid': 'settings-link' }, icon('gear')),
      h('a', { href: `/u/${encodeURIComponent(app.me.username)}`, class: 'me-link', 'aria-label': `Your profile (${app.me.display_name})` }, avatar(app.me, 'sm')),
    );
    tabs = h('nav', { class: 'tabs', 'aria-label': 'Main' },
      SECTIONS.map(([href, text]) => h('a', { href, class: 'tab' }, text)),
      app.me.is_admin ? h('a', { href: '/admin', class: 'tab', 'data-testid': 'admin-tab' }, 'Admin') : null,
      app.delegations.length > 0
        ? h('button', {
          type: 'button', class: ['tab', 'tab-acting', app.acting && 'is-acting'], 'data-testid': 'acting-switch', onclick: actingSheet,
          'aria-label': app.acting ? `Acting as @${app.acting.account.username}: change` : 'Act for someone',
        }, icon('swap', 'tiny'), app.acting ? `@${app.acting.account.username}` : 'Act for…')
        : null);
  } else {
    nav.append(h('a', { href: '/login', class: 'btn btn-ghost' }, 'Log in'));
  }
  replace(frame.header,
    h('a', { href: app.me ? '/' : '/login', class: 'brand' }, h('span', { class: 'brand-dot', 'aria-hidden': 'true' }), NAME),
    nav, tabs);
  if (tabs) {
    // On a phone the tabs scroll sideways: a faded edge says there is more.
    const edges = () => {
      tabs.classList.toggle('scrolls-left', tabs.scrollLeft > 2);
      tabs.classList.toggle('scrolls-right', tabs.scrollLeft + tabs.clientWidth < tabs.scrollWidth - 2);
    };
    tabs.addEventListener('scroll', edges, { passive: true });
    requestAnimationFrame(edges);
  }
  renderBanner();
}

// renderBanner says, on every page, for whom the user acts.
function renderBanner() {
  if (!app.acting) {
    replace(frame.banner);
    return;
  }
  const who = app.acting.account;
  const scopes = app.acting.scopes.join(' and ') || 'nothing';
  replace(frame.banner, h('div', { class: 'acting-banner', role: 'status', 'data-testid': 'acting-banner' },
    icon('swap'),
    h('span', null, h('strong', null, `Acting as @${who.username}`),
      ` — their ${scopes}. Rooms, notifications and everything else stay yours: you always join rooms as yourself.`),
    h('button', { type: 'button', class: 'btn btn-small', onclick: () => actAs(null) }, 'Stop acting')));
}

// actingSheet lets a delegate choose for whom the app acts.
function actingSheet() {
  sheet('Act for someone', (close) => {
    const row = (label, sub, d, current) => {
      const b = h('button', { type: 'button', class: 'menu-item', 'aria-pressed': String(current), 'data-acting-as': d ? d.account.username : '' },
        h('span', { class: 'menu-main' }, label, sub ? h('span', { class: 'muted small' }, sub) : null),
        current ? h('span', { class: 'pill' }, 'now') : null);
      b.addEventListener('click', () => { actAs(d); close(); });
      return b;
    };
    return [
      h('p', { class: 'muted' }, 'Accounts that named you their delegate. Acting for one, you manage their events and answer their invitations; you still speak only as yourself.'),
      h('div', { class: 'menu', role: 'group', 'aria-label': 'Act as' },
        row(`Yourself (@${app.me.username})`, '', null, !app.acting),
        app.delegations.map((d) => row(`@${d.account.username}`, `${d.account.display_name} · ${(d.scopes || []).join(', ')}`, d,
          Boolean(app.acting && app.acting.account.username === d.account.username)))),
    ];
  });
}

// renderMinibar shows the room the user is in while they look at another page.
function renderMinibar() {
  const s = app.room;
  const onRoomPage = location.pathname === `/rooms/${s && s.id}`;
  if (!s || s.status === 'over' || onRoomPage || !s.room) {
    replace(frame.minibar);
    return;
  }
  replace(frame.minibar, h('div', { class: 'minibar', role: 'region', 'aria-label': 'Your room' },
    h('a', { href: `/rooms/${encodeURIComponent(s.id)}`, class: 'minibar-room' },
      h('span', { class: 'live-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'minibar-title' }, s.room.title)),
    h('button', { type: 'button', class: 'btn btn-small btn-ghost', onclick: () => s.leave() }, 'Leave quietly')));
}

// setRoom makes s the room the user is in (ending the previous one).
export function setRoom(s) {
  if (app.room && app.room !== s && app.room.status !== 'over') app.room.leave();
  app.room = s;
  if (s) {
    s.addEventListener('change', (e) => {
      if (['snapshot', 'over', 'connection'].includes(e.detail)) renderMinibar();
      // The room socket may be the first to learn that the session ended.
      if (e.detail === 'over' && app.me && (s.ending === 'signed_out' || s.ending === 'disabled')) emit('signed-out', s.ending);
      if (e.detail === 'over' && app.room === s) {
        // keep it so the room page can say what happened; the minibar hides it
        renderMinibar();
      }
    });
  }
  renderMinibar();
  emit('room', s);
}
app.setRoom = setRoom;

function match(path) {
  for (const [re, view, auth] of routes) {
    const m = re.exec(path);
    if (m) return { view, auth, params: m.slice(1).map(decodeURIComponent) };
  }
  return null;
}

// navigate goes to path inside the app; state travels with the history entry.
function navigate(path, state = {}, { replace: rep = false } = {}) {
  if (rep) history.replaceState(state, '', path);
  else history.pushState(state, '', path);
  render();
}
app.navigate = navigate;

async function render() {
  const token = ++renderToken;
  const path = location.pathname;
  if (frame && app.me) renderHeader(); // the current tab
  const route = match(path);
  clearToasts(); // a message about the page left behind means nothing on the next
  if (current && current.destroy) current.destroy();
  current = null;
  renderMinibar();
  if (!route) {
    show({ title: 'Not found', el: h('section', { class: 'empty' }, h('h1', { tabindex: '-1' }, 'Nothing here'), h('p', null, 'This page does not exist.'), h('a', { href: '/', class: 'btn' }, 'Go to the hallway')) });
    return;
  }
  if (route.auth && !app.me) {
    navigate('/login?next=' + encodeURIComponent(path + location.search), {}, { replace: true });
    return;
  }
  frame.main.setAttribute('aria-busy', 'true');
  let v;
  try {
    v = await route.view({ params: route.params, state: history.state || {}, query: new URLSearchParams(location.search) });
  } catch (e) {
    v = { title: 'Error', el: h('section', { class: 'empty' }, h('h1', { tabindex: '-1' }, 'Something went wrong'), h('p', { role: 'alert' }, e.message || String(e))) };
  }
  if (token !== renderToken) {
    if (v && v.destroy) v.destroy();
    return;
  }
  show(v);
}

function show(v) {
  current = v;
  frame.main.removeAttribute('aria-busy');
  replace(frame.main, v.el);
  document.title = v.title ? `${v.title} · ${NAME}` : NAME;
  const h1 = frame.main.querySelector('h1');
  if (h1 && document.activeElement === document.body) {
    h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

// Links inside the app are handled here, without a page load.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || a.dataset.external !== undefined) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/static/')) return;
  e.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search, a.dataset.autojoin ? { autojoin: true } : {});
});
window.addEventListener('popstate', render);
window.addEventListener('resize', () => {
  const tabs = frame && frame.header.querySelector('.tabs');
  if (tabs) tabs.dispatchEvent(new Event('scroll'));
});

// signIn records the signed-in user and starts their live updates.
export async function signIn(user) {
  app.me = user;
  if (!app.userSocket) app.userSocket = new UserSocket();
  app.userSocket.start();
  renderHeader();
  emit('me', user);
  refreshUnread();
  loadDelegations();
}
app.signIn = signIn;

// setMe updates the signed-in user (after a profile edit).
app.setMe = (user) => {
  app.me = user;
  renderHeader();
  emit('me', user);
};

// signOut is the user's own "Log out": leave the room, stop the user socket
// (so that the server's bye session_ended is not news), then end the session.
export async function signOut() {
  if (app.room && app.room.status !== 'over') await app.room.leave();
  if (app.userSocket) app.userSocket.stop();
  try { await post('/logout'); } catch { /* the session may already be gone */ }
  signedOut();
}
app.signOut = signOut;
// signedOutHere forgets the user whose session the server already ended (a
// deleted account).
app.signedOutHere = async () => signedOut();

// signedOut forgets the signed-in user. ending, when the server ended the
// session ('signed_out' or 'disabled'), is what the room the user is in says.
function signedOut(ending) {
  const s = app.room;
  app.me = null; // first: the room's end below must not report it again
  if (s && s.status !== 'over') {
    if (ending) s.finish(ending);
    else s.leave();
  }
  if (app.userSocket) app.userSocket.stop();
  app.unread = 0;
  app.hallway = null;
  clearActing();
  renderHeader();
  emit('me', null);
}

async function refreshUnread() {
  try {
    const r = await get('/notifications?limit=100');
    app.unread = r.notifications.filter((n) => !n.read).length;
  } catch {
    app.unread = 0;
  }
  renderHeader();
}
app.refreshUnread = refreshUnread;

// __townhall is a small read-only handle for tests and for debugging from the
// browser console: the audio of the room the user is in, and where its session
// stands. It reveals nothing the page's own scripts could not read already.
window.__townhall = Object.freeze({
  audioStats: () => (app.room ? app.room.audio.stats() : Promise.resolve(null)),
  roomState: () => (app.room ? { id: app.room.id, status: app.room.status, ending: app.room.ending || '', connects: app.room.connects } : null),
});

async function boot() {
  buildFrame();
  // The service worker shows pushed notifications and makes the app installable.
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
  try {
    const me = await get('/me');
    await signIn(me);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) toast(e.message, 'error');
    app.me = null;
    renderHeader();
  }
  on('unread', renderHeader);
  on('delegations', renderHeader);
  on('acting', () => {
    renderHeader();
    if (app.me) render(); // the page shows the other account's data now
  });
  // The server ended the session (signed out elsewhere, password changed,
  // expired, account disabled): the user socket or the room socket says so.
  on('signed-out', (why) => {
    if (!app.me) return; // told already: both sockets say it
    const s = app.room;
    const ending = why === 'disabled' ? 'disabled' : 'signed_out';
    signedOut(ending);
    // The room page says it itself, with a link to log in and come back.
    if (s && s.ending === ending && location.pathname === `/rooms/${encodeURIComponent(s.id)}`) return;
    toast(why === 'disabled' ? 'You were signed out: an admin disabled your account.' : 'You were signed out.', 'info');
    navigate('/login?next=' + encodeURIComponent(location.pathname + location.search), {}, { replace: true });
  });
  render();
  resumeElsewhere();
}

// resumeElsewhere puts the user back, in the background, in the room this tab
// was in moments ago (a tab reopened on another page than the room's: the
// minibar shows it), unless another tab plays it now. The room's own page
// resumes it itself (views/room.js).
async function resumeElsewhere() {
  const m = remembered();
  const guest = !app.me;
  if (!m || location.pathname === `/rooms/${encodeURIComponent(m.id)}` || !resumable(m.id, guest, false)) return;
  if (await playingElsewhere(m.id)) return;
  if (!app.room && location.pathname !== `/rooms/${encodeURIComponent(m.id)}`) joinRoom(m.id, guest);
}

boot();
