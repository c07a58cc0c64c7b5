// /clubs: the user's clubs and the form to create one.
// /clubs/{id}: a club: description, rules, members with their roles, join (or
// ask to join), leave; its admins approve requests, change roles, remove
// members and edit the club; its leaders start club rooms and schedule its events.

import { shareButton } from '../share.js';
import { h, replace, icon, avatar, plural } from '../dom.js';
import { get, post, patch, put, del, enc, ApiError } from '../api.js';
import { app, toast } from '../state.js';
import { field, errorBox, busy, sheet } from './ui.js';
import { eventCard } from './events.js';
import { replayList } from './replay.js';

const ROLE_WORDS = { admin: 'admin', leader: 'leader', member: 'member' };
const ROOM_TYPES = [
  ['open', 'Open', 'Anyone here can join.', 'globe'],
  ['social', 'Social', 'People you follow can join.', 'people'],
  ['closed', 'Closed', 'Only people you invite.', 'lock'],
];

function clubCard(c) {
  return h('li', null, h('a', { href: `/clubs/${enc(c.id)}`, class: 'club-card', 'data-club-id': c.id },
    h('span', { class: 'club-mark', 'aria-hidden': 'true' }, icon('club')),
    h('span', { class: 'club-main' },
      h('strong', { class: 'club-name' }, c.name),
      c.description ? h('span', { class: 'muted small club-desc' }, c.description) : null,
      h('span', { class: 'muted small' }, plural(c.members, 'member'), c.your_role ? h('span', { class: 'tag' }, ROLE_WORDS[c.your_role]) : null,
        c.approval ? h('span', { class: 'tag' }, 'by approval') : null))));
}

// clubForm creates a club, or edits c.
function clubForm(c, onDone, onCancel) {
  const name = field('Name', { name: 'name', required: true, maxlength: 60, value: c ? c.name : '', placeholder: 'e.g. Late Night Jazz' }, 'Up to 60 characters, unique.');
  const desc = field('Description', { name: 'description', multiline: true, maxlength: 500, rows: 3 }, 'Up to 500 characters.');
  desc.input.value = c ? c.description : '';
  const rules = field('Rules', { name: 'rules', multiline: true, maxlength: 2000, rows: 4 }, 'Up to 2000 characters.');
  rules.input.value = c ? c.rules : '';
  const approval = h('input', { type: 'checkbox', name: 'approval', checked: c ? c.approval : false });
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, c ? 'Save' : 'Create the club');
  const form = h('form', { class: 'stack', 'aria-label': c ? 'Edit the club' : 'Create a club' }, name.el, desc.el, rules.el,
    h('label', { class: 'check' }, approval, h('span', null, 'New members need an admin’s approval')), err.el,
    h('div', { class: 'row' }, submit, onCancel ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: onCancel }, 'Cancel') : null));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    busy(submit, async () => {
      const body = { name: name.input.value.trim(), description: desc.input.value.trim(), rules: rules.input.value.trim(), approval: approval.checked };
      onDone(c ? await patch(`/clubs/${enc(c.id)}`, body) : await post('/clubs', body));
    }, err);
  });
  return { form, focus: () => name.input.focus() };
}

export async function clubsView() {
  const list = h('ul', { class: 'club-list', 'aria-busy': 'true' });
  const slot = h('div', { class: 'start-slot' });
  const createBtn = h('button', { type: 'button', class: 'btn btn-primary btn-start', 'aria-expanded': 'false' }, icon('plus'), 'Create a club');
  const toggle = (open) => {
    createBtn.setAttribute('aria-expanded', String(open));
    createBtn.hidden = open;
    if (!open) { replace(slot); createBtn.focus(); return; }
    const f = clubForm(null, (c) => { toast('Club created. You are its admin.', 'info', 3000); app.navigate(`/clubs/${enc(c.id)}`); }, () => toggle(false));
    replace(slot, h('div', { class: 'card start-card' }, h('h2', null, 'Create a club'), f.form));
    f.focus();
  };
  createBtn.addEventListener('click', () => toggle(true));
  get('/clubs').then((r) => {
    list.removeAttribute('aria-busy');
    replace(list, r.clubs.length === 0
      ? h('li', { class: 'empty' }, h('p', { class: 'empty-title' }, 'No clubs yet'),
        h('p', { class: 'muted' }, 'Find clubs with the search, or create one.'))
      : r.clubs.map(clubCard));
  }).catch((e) => replace(list, h('li', { class: 'form-error', role: 'alert' }, e.message)));
  return {
    title: 'Clubs',
    el: h('section', { class: 'clubs' },
      h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Clubs'), h('p', { class: 'muted' }, 'Your clubs. ',
        h('a', { href: '/search' }, 'Search'), ' to find more.')), createBtn),
      slot, list),
  };
}

export async function clubView({ params }) {
  const id = params[0];
  let c;
  try {
    c = await get('/clubs/' + enc(id));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return { title: 'Club', el: h('section', { class: 'card narrow center' }, h('h1', null, 'Club not found'), h('a', { href: '/clubs', class: 'btn btn-primary' }, 'Your clubs')) };
    }
    throw e;
  }
  const el = h('section', { class: 'club-page' });
  let requested = false;

  const draw = async () => {
    const role = c.your_role || '';
    const admin = role === 'admin';
    const lead = admin || role === 'leader';
    const err = errorBox();
    const actions = [];
    if (!role) {
      const join = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'join-club', disabled: requested },
        requested ? 'Request sent' : c.approval ? 'Ask to join' : 'Join the club');
      join.addEventListener('click', () => busy(join, async () => {
        try {
          const r = await post(`/clubs/${enc(c.id)}/join`);
          if (r && r.status === 'requested') { requested = true; toast('Asked. An admin will decide.', 'info', 3000); }
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409)) throw e;
          requested = true; // already asked
        }
        c = await get('/clubs/' + enc(c.id));
        draw();
      }, err));
      actions.push(join);
    }
    if (admin) {
      const edit = h('button', { type: 'button', class: 'btn' }, 'Edit the club');
      edit.addEventListener('click', () => sheet('Edit the club', (close) => {
        const f = clubForm(c, (saved) => { c = { ...c, ...saved }; close(); draw(); });
        return f.form;
      }));
      actions.push(edit);
    }
    if (lead) actions.push(h('a', { href: `/events?club=${enc(c.id)}&schedule=1`, class: 'btn' }, icon('calendar'), 'Schedule a club event'));
    actions.push(shareButton(() => ({ url: `/clubs/${c.id}`, title: c.name }), { small: false }));
    if (role) {
      const leave = h('button', { type: 'button', class: 'btn btn-ghost danger-text' }, 'Leave the club');
      let armed = false;
      leave.addEventListener('click', () => {
        if (!armed) { armed = true; leave.textContent = 'Really leave?'; return; }
        busy(leave, async () => { await post(`/clubs/${enc(c.id)}/leave`); c = await get('/clubs/' + enc(c.id)); draw(); }, err);
      });
      actions.push(leave);
    }

    const [members, requests, events] = await Promise.all([
      get(`/clubs/${enc(c.id)}/members?limit=100`).then((r) => r.members).catch(() => []),
      admin ? get(`/clubs/${enc(c.id)}/requests`).then((r) => r.requests).catch(() => []) : [],
      get(`/clubs/${enc(c.id)}/events`).then((r) => r.events).catch(() => []),
    ]);

    replace(el,
      h('article', { class: 'card club-head' },
        h('div', { class: 'profile-top' }, h('span', { class: 'club-mark big', 'aria-hidden': 'true' }, icon('club')),
          h('div', null, h('h1', { 'data-testid': 'club-name' }, c.name),
            h('p', { class: 'muted' }, plural(c.members, 'member'), role ? h('span', { class: 'tag' }, `you: ${ROLE_WORDS[role]}`) : null,
              c.approval ? h('span', { class: 'tag' }, 'join by approval') : h('span', { class: 'tag' }, 'open to join')))),
        c.description ? h('p', { class: 'bio' }, c.description) : null,
        h('div', { class: 'row wrap' }, actions), err.el),
      lead ? roomStarter(c) : null,
      admin && requests.length ? h('section', { class: 'card', 'aria-labelledby': 'req-h' }, h('h2', { id: 'req-h' }, `Requests to join (${requests.length})`),
        h('ul', { class: 'sent-list' }, requests.map((r) => requestRow(c, r, draw)))) : null,
      c.rules ? h('section', { class: 'card', 'aria-labelledby': 'rules-h' }, h('h2', { id: 'rules-h' }, 'Rules'), h('p', { class: 'bio' }, c.rules)) : null,
      events.length ? h('section', { 'aria-labelledby': 'cev-h' }, h('h2', { id: 'cev-h', class: 'section-title' }, 'Upcoming'),
        h('ul', { class: 'event-list' }, events.map((e) => eventCard(e, { compact: true })))) : null,
      replayList(`/clubs/${enc(c.id)}/replays`),
      h('section', { class: 'card', 'aria-labelledby': 'mem-h' }, h('h2', { id: 'mem-h' }, 'Members'),
        h('ul', { class: 'member-list' }, members.map((m) => memberRow(c, m, admin, draw)))));
  };

  await draw();
  return { title: c.name, el };
}

function requestRow(c, r, redraw) {
  const err = errorBox();
  const decide = (approve, b) => busy(b, async () => {
    await post(`/clubs/${enc(c.id)}/requests/${enc(r.user.username)}`, { approve });
    toast(approve ? `${r.user.display_name} is a member now.` : 'Request declined.', 'info', 2500);
    c.members += approve ? 1 : 0;
    redraw();
  }, err);
  const yes = h('button', { type: 'button', class: 'btn btn-small btn-primary' }, 'Approve');
  yes.addEventListener('click', () => decide(true, yes));
  const no = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'Decline');
  no.addEventListener('click', () => decide(false, no));
  return h('li', { class: 'sent-row', 'data-username': r.user.username }, avatar(r.user, 'sm'),
    h('a', { href: `/u/${enc(r.user.username)}`, class: 'sent-name' }, r.user.display_name), yes, no, err.el);
}

function memberRow(c, m, admin, redraw) {
  const me = app.me && m.user.id === app.me.id;
  const bits = [avatar(m.user, 'sm'), h('a', { href: `/u/${enc(m.user.username)}`, class: 'sent-name' }, m.user.display_name + (me ? ' (you)' : ''))];
  if (admin) {
    const id = 'role-' + m.user.username;
    const sel = h('select', { id, 'aria-label': `Role of ${m.user.display_name}` },
      Object.entries(ROLE_WORDS).map(([v, w]) => h('option', { value: v, selected: m.role === v }, w)));
    sel.addEventListener('change', async () => {
      sel.disabled = true;
      try {
        await put(`/clubs/${enc(c.id)}/members/${enc(m.user.username)}`, { role: sel.value });
        m.role = sel.value;
        toast(`${m.user.display_name} is ${sel.value === 'admin' ? 'an' : 'a'} ${sel.value} now.`, 'info', 2500);
      } catch (e) {
        sel.value = m.role;
        toast(e.message, 'error');
      } finally {
        sel.disabled = false;
      }
    });
    bits.push(sel);
    if (!me) {
      const rm = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Remove ${m.user.display_name} from the club` }, 'Remove');
      let armed = false;
      rm.addEventListener('click', () => {
        if (!armed) { armed = true; rm.textContent = 'Really remove?'; return; }
        busy(rm, async () => { await del(`/clubs/${enc(c.id)}/members/${enc(m.user.username)}`); c.members -= 1; redraw(); }).catch((e) => toast(e.message, 'error'));
      });
      bits.push(rm);
    }
  } else {
    bits.push(h('span', { class: `pill role-${m.role}` }, ROLE_WORDS[m.role] || m.role));
  }
  return h('li', { class: 'sent-row member-row', 'data-role': m.role }, bits);
}

// roomStarter: leaders start a room of the club, members-only or not.
function roomStarter(c) {
  const title = field('Start a club room', { name: 'title', required: true, maxlength: 80, placeholder: 'What do you want to talk about?' });
  const typeName = 'club-room-' + Math.random().toString(36).slice(2);
  const radios = ROOM_TYPES.map(([v, label, hint, ic], i) => {
    const input = h('input', { type: 'radio', name: typeName, value: v, checked: i === 0, class: 'sr-only' });
    return { input, el: h('label', { class: 'choice' }, input, h('span', { class: 'choice-box' }, icon(ic), h('strong', null, label), h('small', null, hint))) };
  });
  const membersOnly = h('input', { type: 'checkbox', name: 'members_only', checked: true });
  const record = h('input', { type: 'checkbox', name: 'record' });
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('mic'), 'Start the room');
  const form = h('form', { class: 'stack card', 'aria-label': 'Start a club room' }, title.el,
    h('fieldset', { class: 'choices' }, h('legend', null, 'Who can join'), radios.map((r) => r.el)),
    h('label', { class: 'check' }, membersOnly, h('span', null, 'Club members only')),
    h('label', { class: 'check' }, record, h('span', null, 'Record this room for a replay (everyone is told before joining)')),
    err.el, h('div', { class: 'row' }, submit));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    busy(submit, async () => {
      const r = await post(`/clubs/${enc(c.id)}/rooms`, { title: title.input.value.trim(), type: radios.find((x) => x.input.checked).input.value, members_only: membersOnly.checked, record: record.checked });
      app.navigate(`/rooms/${enc(r.id)}`, { autojoin: true });
    }, err);
  });
  return form;
}
