// /events: upcoming events (people you follow, your clubs, events you subscribed
// or were invited to), "Notify me", and the form to schedule one.
// /events?list=explore: Explore, every upcoming event anyone may join, whoever
// hosts it, soonest first, a page at a time.
// /events/{id}: one event: details, .ics, Notify me; for its hosts Start (one
// click opens the room), edit, cancel, invite and the invitees' answers; for an
// invitee, their answer.

import { shareButton } from '../share.js';
import { publicInvitations } from './publicinvitations.js';
import { h, replace, icon, avatar } from '../dom.js';
import { get, post, patch, del, put, enc, ApiError } from '../api.js';
import { app, toast } from '../state.js';
import { principal, actingFor } from '../acting.js';
import { field, errorBox, busy, sheet, copyButton } from './ui.js';
import { browserZone, zones, toRFC3339, toLocalInput, soon, nowLocal, formatWhen, untilWords } from '../when.js';

const ROOM_TYPES = [
  ['open', 'Open', 'Anyone here can join.', 'globe'],
  ['social', 'Social', 'People who follow a host.', 'people'],
  ['closed', 'Closed', 'Only hosts and invitees.', 'lock'],
];
const TYPE_WORDS = { open: 'open', social: 'social', closed: 'closed' };
const ANSWER_WORDS = { pending: 'no answer yet', accepted: 'accepted', declined: 'declined', question: 'asked a question' };

// --- "Notify me" -----------------------------------------------------------------
// The event JSON does not say whether the viewer subscribed: the app remembers
// the toggles this browser made (and uses the server's `subscribed` if it ever
// sends one).

const subsKey = () => `townhall.subscribed.${app.me ? app.me.id : ''}`;
function remembered() {
  try {
    return new Set(JSON.parse(localStorage.getItem(subsKey()) || '[]'));
  } catch {
    return new Set();
  }
}
function remember(id, on) {
  const s = remembered();
  if (on) s.add(id); else s.delete(id);
  try { localStorage.setItem(subsKey(), JSON.stringify([...s].slice(-500))); } catch { /* private mode */ }
}
function isSubscribed(e) {
  return typeof e.subscribed === 'boolean' ? e.subscribed : remembered().has(e.id);
}

// isHost: the account the events pages are about hosts or co-hosts e.
export function isHost(e) {
  const me = principal('events');
  return Boolean(me && (e.host.id === me.id || (e.cohosts || []).some((c) => c.id === me.id)));
}

// notifyButton toggles the subscription to e.
function notifyButton(e) {
  let on = isSubscribed(e);
  const b = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'notify-me' });
  const draw = () => {
    b.setAttribute('aria-pressed', String(on));
    b.classList.toggle('is-on', on);
    replace(b, icon('bell', 'tiny'), on ? 'You’ll be notified' : 'Notify me');
    b.setAttribute('aria-label', on ? `Notifications on for ${e.name}. Turn off` : `Notify me when ${e.name} starts`);
  };
  draw();
  b.addEventListener('click', () => busy(b, async () => {
    if (on) await del(`/events/${enc(e.id)}/subscription`);
    else await put(`/events/${enc(e.id)}/subscription`);
    on = !on;
    remember(e.id, on);
    draw();
    toast(on ? 'We’ll tell you when it starts.' : 'You won’t be notified about it.', 'info', 2500);
  }).catch((err) => toast(err.message, 'error')));
  return b;
}

function hostsLine(e) {
  const people = [e.host, ...(e.cohosts || [])];
  return h('p', { class: 'event-hosts' },
    h('span', { class: 'avatar-stack', 'aria-hidden': 'true' }, people.slice(0, 4).map((p) => avatar(p, 'xs'))),
    h('span', null, 'with ', people.map((p, i) => [i > 0 ? (i === people.length - 1 ? ' and ' : ', ') : '',
      h('a', { href: `/u/${enc(p.username)}` }, p.display_name)])));
}

// eventState says where e stands, in words and as a class.
function eventState(e) {
  if (e.cancelled) return ['Cancelled', 'is-cancelled'];
  if (e.room_id) return ['Live now', 'is-live'];
  return [untilWords(e.starts_at), ''];
}

// eventCard is one event in a list.
export function eventCard(e, { compact = false } = {}) {
  const [state, cls] = eventState(e);
  return h('li', { class: ['event-card', cls], 'data-event-id': e.id },
    h('div', { class: 'event-date', 'aria-hidden': 'true' },
      h('span', { class: 'event-month' }, new Intl.DateTimeFormat(undefined, { month: 'short' }).format(new Date(e.starts_at))),
      h('span', { class: 'event-day' }, new Intl.DateTimeFormat(undefined, { day: 'numeric' }).format(new Date(e.starts_at)))),
    h('div', { class: 'event-main' },
      h('p', { class: 'event-when' }, e.room_id && !e.cancelled ? h('span', { class: 'live-dot', 'aria-hidden': 'true' }) : null,
        h('time', { datetime: e.starts_at }, formatWhen(e.starts_at)), ' · ', h('span', { class: 'event-state' }, state),
        h('span', { class: 'tag' }, TYPE_WORDS[e.room_type] || e.room_type), e.members_only ? h('span', { class: 'tag' }, 'members only') : null),
      h('h2', { class: 'event-name' }, h('a', { href: `/events/${enc(e.id)}` }, e.name)),
      !compact && e.description ? h('p', { class: 'event-desc' }, e.description) : null,
      hostsLine(e)),
    compact || e.cancelled ? null : h('div', { class: 'event-actions' }, icsLink(e, true), isHost(e) ? null : notifyButton(e)));
}

// icsLink downloads e as an iCalendar file (relative: the page's own origin).
function icsLink(e, small = false) {
  return h('a', {
    href: `/api/v1/events/${enc(e.id)}.ics`, download: `${e.id}.ics`, class: small ? 'btn btn-small btn-ghost' : 'btn btn-small', 'data-testid': 'ics',
    'aria-label': `Add ${e.name} to your calendar (.ics file)`,
  }, icon('download', 'tiny'), small ? '.ics' : 'Add to calendar (.ics)');
}

// --- the schedule form ----------------------------------------------------------

// myLeadClubs lists the clubs where the user may schedule (leader or admin).
async function myLeadClubs() {
  if (actingFor('events')) return []; // clubs are personal: a delegate cannot see the owner's
  try {
    const r = await get('/clubs');
    return (r.clubs || []).filter((c) => c.your_role === 'admin' || c.your_role === 'leader');
  } catch {
    return [];
  }
}

// eventForm is the form to schedule an event, or to edit e. onDone gets the
// saved event.
async function eventForm(e, onDone, { clubID = '', onCancel } = {}) {
  const zone = e ? e.time_zone : browserZone();
  const name = field('Name', { name: 'name', required: true, maxlength: 60, value: e ? e.name : '', placeholder: 'e.g. Jazz night' }, 'Up to 60 characters.');
  const desc = field('Description (optional)', { name: 'description', multiline: true, maxlength: 200, rows: 3 }, 'Up to 200 characters.');
  desc.input.value = e ? e.description : '';
  const start = field('Starts', { name: 'starts_at', type: 'datetime-local', required: true, value: e ? toLocalInput(e.starts_at, zone) : soon(zone), min: nowLocal(zone) });
  const tzSelect = h('select', { name: 'time_zone', id: 'tz-' + Math.random().toString(36).slice(2) },
    zones().map((z) => h('option', { value: z, selected: z === zone }, z.replace(/_/g, ' '))));
  const tz = h('div', { class: 'field' }, h('label', { for: tzSelect.id }, 'Time zone'), tzSelect);
  tzSelect.addEventListener('change', () => { start.input.min = nowLocal(tzSelect.value); });
  const cohosts = field('Co-hosts (optional)', { name: 'cohosts', autocapitalize: 'none', spellcheck: 'false', placeholder: 'usernames',
    value: e ? (e.cohosts || []).map((c) => c.username).join(', ') : '' }, 'Up to 10 usernames, separated by commas or spaces.');
  const typeName = 'event-type-' + Math.random().toString(36).slice(2);
  const radios = ROOM_TYPES.map(([v, label, hint, ic]) => {
    const input = h('input', { type: 'radio', name: typeName, value: v, checked: (e ? e.room_type : 'open') === v, class: 'sr-only' });
    return { input, el: h('label', { class: 'choice' }, input, h('span', { class: 'choice-box' }, icon(ic), h('strong', null, label), h('small', null, hint))) };
  });
  const clubs = e ? [] : await myLeadClubs();
  const clubSelect = h('select', { name: 'club_id', id: 'club-' + Math.random().toString(36).slice(2) },
    h('option', { value: '' }, 'No club'), clubs.map((c) => h('option', { value: c.id, selected: c.id === clubID }, c.name)));
  const clubField = clubs.length ? h('div', { class: 'field' }, h('label', { for: clubSelect.id }, 'Club (optional)'), clubSelect) : null;
  const membersOnly = h('input', { type: 'checkbox', name: 'members_only', checked: e ? e.members_only : false });
  const membersRow = h('label', { class: 'check' }, membersOnly, h('span', null, 'Club members only'));
  const syncClub = () => { membersRow.hidden = !(e ? e.club_id : clubSelect.value); };
  clubSelect.addEventListener('change', syncClub);
  syncClub();
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('calendar'), e ? 'Save changes' : 'Schedule');
  const form = h('form', { class: 'stack event-form', 'aria-label': e ? 'Edit the event' : 'Schedule an event' },
    name.el, desc.el, h('div', { class: 'form-row' }, start.el, tz), cohosts.el,
    h('fieldset', { class: 'choices' }, h('legend', null, 'Room'), radios.map((r) => r.el)),
    clubField, membersRow, err.el,
    h('div', { class: 'row' }, submit, onCancel ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: onCancel }, 'Cancel') : null));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    busy(submit, async () => {
      const startsAt = toRFC3339(start.input.value, tzSelect.value);
      if (!startsAt) throw new Error('Choose when it starts.');
      if (new Date(startsAt).getTime() <= Date.now()) throw new Error('Choose a time in the future.');
      const body = {
        name: name.input.value.trim(), description: desc.input.value.trim(), starts_at: startsAt, time_zone: tzSelect.value,
        cohosts: cohosts.input.value.split(/[\s,]+/).map((s) => s.replace(/^@/, '').toLowerCase()).filter(Boolean),
        room_type: radios.find((r) => r.input.checked).input.value,
        members_only: !membersRow.hidden && membersOnly.checked,
      };
      if (!e && clubSelect.value) body.club_id = clubSelect.value;
      const saved = e ? await patch(`/events/${enc(e.id)}`, body) : await post('/events', body);
      onDone(saved);
    }, err);
  });
  return { form, focus: () => name.input.focus() };
}

// --- /events ------------------------------------------------------------------------

export async function eventsView({ query }) {
  const list = h('ul', { class: 'event-list', 'aria-busy': 'true' });
  const invites = h('section', { class: 'event-invites', 'aria-label': 'Your invitations', hidden: true });
  const formSlot = h('div', { class: 'start-slot' });
  const scheduleBtn = h('button', { type: 'button', class: 'btn btn-primary btn-start', 'aria-expanded': 'false', 'data-testid': 'schedule' }, icon('plus'), 'Schedule an event');
  const toggle = async (open) => {
    scheduleBtn.setAttribute('aria-expanded', String(open));
    scheduleBtn.hidden = open;
    if (!open) { replace(formSlot); scheduleBtn.focus(); return; }
    const f = await eventForm(null, (saved) => {
      toast('Event scheduled.', 'info', 2500);
      app.navigate(`/events/${enc(saved.id)}`);
    }, { clubID: query.get('club') || '', onCancel: () => toggle(false) });
    replace(formSlot, h('div', { class: 'card start-card' }, h('h2', null, 'Schedule an event'), f.form));
    f.focus();
  };
  scheduleBtn.addEventListener('click', () => toggle(true));

  const explore = query.get('list') === 'explore';
  const load = async () => {
    if (explore) {
      await loadExplore(list);
      return;
    }
    try {
      const r = await get('/events?limit=100');
      list.removeAttribute('aria-busy');
      replace(list, r.events.length === 0
        ? h('li', { class: 'empty' }, h('p', { class: 'empty-title' }, 'Nothing scheduled yet'),
          h('p', { class: 'muted' }, 'Events of people you follow and of your clubs show up here. Schedule one!'))
        : r.events.map((e) => eventCard(e)));
    } catch (e) {
      replace(list, h('li', { class: 'form-error', role: 'alert' }, e.message));
    }
    try {
      const r = await get('/me/event-invitations');
      const pending = (r.invitations || []).filter((i) => i.status === 'pending' || i.status === 'question');
      invites.hidden = pending.length === 0;
      replace(invites, h('h2', { class: 'section-title' }, 'Invitations'),
        h('ul', { class: 'sent-list' }, pending.map((i) => h('li', { class: 'sent-row' }, avatar(i.from, 'sm'),
          h('span', null, h('strong', null, i.from.display_name), ' invited you', i.to_stage ? ' to speak' : '', ' — ',
            h('a', { href: `/events/${enc(i.event_id)}` }, 'see the event and answer'))))));
    } catch {
      invites.hidden = true;
    }
  };
  load();
  if (query.get('schedule') === '1') toggle(true);

  const who = principal('events');
  return {
    title: 'Events',
    el: h('section', { class: 'events' },
      h('div', { class: 'page-head' },
        h('div', null, h('h1', null, 'Events'),
          h('p', { class: 'muted' }, explore ? 'Open to everyone, whoever hosts them. Soonest first.'
            : actingFor('events') ? `Upcoming, for @${who.username}.` : 'Upcoming conversations. Get notified when they start.')),
        scheduleBtn),
      h('nav', { class: 'list-switch', 'aria-label': 'Which events' },
        h('a', { href: '/events', 'aria-current': explore ? null : 'page', 'data-testid': 'events-for-you' }, 'For you'),
        h('a', { href: '/events?list=explore', 'aria-current': explore ? 'page' : null, 'data-testid': 'events-explore' }, 'Explore')),
      formSlot, explore ? null : invites, list),
  };
}

// loadExplore fills list with the first page of Explore, and a "Show more" row
// while there are further pages.
async function loadExplore(list) {
  const more = h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'explore-more' }, 'Show more');
  const moreRow = h('li', { class: 'list-more' }, more);
  let cursor = '';
  const page = async () => {
    const r = await get('/events/explore?limit=20' + (cursor ? '&cursor=' + enc(cursor) : ''));
    cursor = r.next_cursor || '';
    moreRow.remove();
    list.append(...r.events.map((e) => eventCard(e)));
    if (cursor) list.append(moreRow);
    return r.events.length;
  };
  more.addEventListener('click', () => busy(more, page).catch((err) => toast(err.message, 'error')));
  try {
    replace(list);
    const n = await page();
    list.removeAttribute('aria-busy');
    if (n === 0) {
      replace(list, h('li', { class: 'empty' }, h('p', { class: 'empty-title' }, 'No open events coming up'),
        h('p', { class: 'muted' }, 'Events anyone can join show up here, whoever hosts them. Schedule one!')));
    }
  } catch (e) {
    list.removeAttribute('aria-busy');
    replace(list, h('li', { class: 'form-error', role: 'alert' }, e.message));
  }
}

// --- /events/{id} ---------------------------------------------------------------------

export async function eventView({ params }) {
  const id = params[0];
  let e;
  try {
    e = await get('/events/' + enc(id));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      return {
        title: 'Event',
        el: h('section', { class: 'card narrow center' }, h('h1', null, 'Event not available'),
          h('p', null, 'This event does not exist, or it is not open to you.'), h('a', { href: '/events', class: 'btn btn-primary' }, 'See upcoming events')),
      };
    }
    throw err;
  }
  const el = h('section', { class: 'event-page' });
  let destroyed = false;

  const draw = async () => {
    const host = isHost(e);
    const err = errorBox();
    const [state, cls] = eventState(e);
    const actions = [];
    if (!e.cancelled && e.room_id) {
      actions.push(h('a', { href: `/rooms/${enc(e.room_id)}`, class: 'btn btn-primary', 'data-autojoin': '1', 'data-testid': 'join-event' }, icon('mic'), 'Join the room'));
    }
    if (host && !e.cancelled && !e.room_id) {
      const start = h('button', { type: 'button', class: 'btn btn-primary btn-big', 'data-testid': 'start-event' }, icon('mic'), 'Start');
      start.addEventListener('click', () => busy(start, async () => {
        const r = await post(`/events/${enc(e.id)}/start`);
        app.navigate(`/rooms/${enc(r.room_id)}`, { autojoin: true });
      }, err));
      actions.push(start);
    }
    if (!host && !e.cancelled) actions.push(notifyButton(e));
    actions.push(icsLink(e), shareButton(() => ({ url: `/events/${e.id}`, title: e.name })));
    if (host && !e.cancelled && !e.room_id) {
      const edit = h('button', { type: 'button', class: 'btn btn-small' }, 'Edit');
      edit.addEventListener('click', async () => {
        const s = sheet('Edit the event', () => h('p', { class: 'muted' }, 'Loading…'));
        const f = await eventForm(e, (saved) => { e = saved; s.close(); toast('Saved. Subscribers and invitees were told.', 'info', 3000); draw(); });
        replace(s.body, f.form);
        f.focus();
      });
      const cancel = h('button', { type: 'button', class: 'btn btn-small btn-ghost danger-text' }, 'Cancel the event');
      let armed = false;
      cancel.addEventListener('click', () => {
        if (!armed) { armed = true; cancel.textContent = 'Really cancel it? Everyone will be told.'; return; }
        busy(cancel, async () => { e = await del(`/events/${enc(e.id)}`); toast('Event cancelled.', 'info', 3000); draw(); }, err);
      });
      actions.push(edit, cancel);
    }

    const club = e.club_id ? await get('/clubs/' + enc(e.club_id)).catch(() => null) : null;
    if (destroyed) return;
    replace(el, h('article', { class: ['card', 'event-detail', cls] },
      h('p', { class: 'eyebrow' }, e.room_id && !e.cancelled ? h('span', { class: 'live-dot', 'aria-hidden': 'true' }) : icon('calendar', 'tiny'), state),
      h('h1', { 'data-testid': 'event-name' }, e.name),
      h('p', { class: 'event-when big' }, h('time', { datetime: e.starts_at }, formatWhen(e.starts_at, e.time_zone))),
      e.cancelled ? h('p', { class: 'notice notice-warn', role: 'status' }, 'This event was cancelled.') : null,
      e.description ? h('p', { class: 'event-desc' }, e.description) : null,
      hostsLine(e),
      h('p', { class: 'room-meta' }, h('span', { class: 'tag' }, `${TYPE_WORDS[e.room_type] || e.room_type} room`),
        e.members_only ? h('span', { class: 'tag' }, 'club members only') : null,
        club ? h('a', { href: `/clubs/${enc(club.id)}` }, icon('club', 'tiny'), club.name) : null),
      h('div', { class: 'row wrap event-buttons' }, actions), err.el),
    host ? await hostPanel(e) : await inviteePanel(e));
  };

  await draw();
  const invs = publicInvitations(`/events/${enc(e.id)}/public-invitations`);
  return { title: e.name, el: h('div', { class: 'stack' }, el, invs.el), destroy: () => { destroyed = true; invs.destroy(); } };
}

// hostPanel: the invitees and their answers, and the form to invite more.
async function hostPanel(e) {
  const box = h('section', { class: 'card event-guests', 'aria-labelledby': 'guests-h' });
  const list = h('ul', { class: 'sent-list' });
  const load = async () => {
    try {
      const r = await get(`/events/${enc(e.id)}/invitations`);
      replace(list, r.invitations.length === 0 ? h('li', { class: 'muted' }, 'Nobody invited yet.')
        : r.invitations.map((i) => h('li', { class: 'sent-row', 'data-status': i.status }, avatar(i.user, 'sm'),
          h('span', { class: 'sent-name' }, i.user.display_name), i.to_stage ? h('span', { class: 'tag' }, 'to speak') : null,
          h('span', { class: `pill status-${i.status}` }, ANSWER_WORDS[i.status] || i.status),
          i.text ? h('q', { class: 'sent-text' }, i.text) : null)));
    } catch (err) {
      replace(list, h('li', { class: 'form-error' }, err.message));
    }
  };
  const open = !e.cancelled && !e.room_id;
  let form = null;
  if (open) {
    const names = field('Invite people', { name: 'usernames', autocapitalize: 'none', spellcheck: 'false', placeholder: 'usernames', required: true },
      'Usernames separated by commas or spaces. Hosts’ guests land on stage when the room opens, unless a block stands between them and a host or another guest.');
    const msg = field('Message (optional)', { name: 'message', maxlength: 280 });
    const pub = h('input', { type: 'checkbox', name: 'public' });
    const err = errorBox();
    const send = h('button', { type: 'submit', class: 'btn' }, icon('invite'), 'Send invitations');
    const who = field('Someone without an account? Their name', { name: 'invitee_name', maxlength: 50, autocomplete: 'off' });
    const linkBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Create their invitation link');
    const linkBox = h('div', { class: 'link-box' });
    linkBtn.addEventListener('click', () => busy(linkBtn, async () => {
      const r = await post(`/events/${enc(e.id)}/invitations`, { usernames: [], link: true, name: who.input.value.trim(), message: msg.input.value.trim(), public: pub.checked });
      const url = r.invitation.invitee_url;
      replace(linkBox, h('p', { class: 'hint' }, 'Send it to them alone: they answer without an account, and sign up to accept.'),
        h('div', { class: 'row' }, h('input', { type: 'text', readonly: true, value: url, class: 'link-input', 'aria-label': 'Invitation link' }), copyButton(url)));
    }, err));
    form = h('div', { class: 'stack' }, h('form', { class: 'stack', id: 'event-invite-form' }, names.el, msg.el,
      h('label', { class: 'check' }, pub, h('span', null, 'Public: anyone may read the invitations and their answers')), err.el, h('div', { class: 'row' }, send)),
    who.el, h('div', { class: 'row' }, linkBtn), linkBox, h('a', { href: '/invitations', class: 'small' }, 'Every invitation you sent, with its answers'));
    const realForm = form.querySelector('form');
    realForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!realForm.reportValidity()) return;
      busy(send, async () => {
        const usernames = names.input.value.split(/[\s,]+/).map((s) => s.replace(/^@/, '').toLowerCase()).filter(Boolean);
        await post(`/events/${enc(e.id)}/invitations`, { usernames, message: msg.input.value.trim(), public: pub.checked });
        names.input.value = '';
        msg.input.value = '';
        toast('Invitations sent.', 'info', 2500);
        await load();
      }, err);
    });
  }
  await load();
  replace(box, h('h2', { id: 'guests-h' }, 'Guests'), list, form ? h('hr') : null, form);
  return box;
}

// inviteePanel: the viewer's invitation to e, if any, and their answer.
async function inviteePanel(e) {
  let inv = null;
  try {
    const r = await get('/me/event-invitations');
    inv = (r.invitations || []).find((i) => i.event_id === e.id) || null;
  } catch {
    inv = null;
  }
  if (!inv) return null;
  const box = h('section', { class: 'card event-guests', 'aria-label': 'Your invitation' });
  const draw = () => {
    const err = errorBox();
    const answer = (kind, text = '') => post(`/events/${enc(e.id)}/answer`, { answer: kind, text });
    const open = !e.cancelled && !e.room_id;
    const buttons = [];
    if (open) {
      const yes = h('button', { type: 'button', class: 'btn btn-primary' }, 'Accept');
      yes.addEventListener('click', () => busy(yes, async () => { inv = await answer('accept'); draw(); }, err));
      const no = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Decline');
      no.addEventListener('click', () => busy(no, async () => { inv = await answer('decline'); draw(); }, err));
      const q = h('input', { type: 'text', maxlength: 280, 'aria-label': 'Your question', placeholder: 'Ask the host a question' });
      const ask = h('button', { type: 'submit', class: 'btn btn-small' }, 'Ask');
      const qf = h('form', { class: 'row question-form' }, q, ask);
      qf.addEventListener('submit', (ev) => {
        ev.preventDefault();
        if (!q.value.trim()) { q.focus(); return; }
        busy(ask, async () => { inv = await answer('question', q.value.trim()); draw(); }, err);
      });
      buttons.push(h('div', { class: 'row wrap' }, yes, no), qf);
    }
    replace(box, h('h2', null, 'Your invitation'),
      h('p', null, h('strong', null, inv.from.display_name), ' invited you', inv.to_stage ? ' to speak' : '', '.'),
      inv.message ? h('blockquote', null, inv.message) : null,
      h('p', null, 'Your answer: ', h('span', { class: `pill status-${inv.status}` }, ANSWER_WORDS[inv.status] || inv.status),
        inv.text ? [' ', h('q', null, inv.text)] : null),
      buttons, err.el);
  };
  draw();
  return box;
}
