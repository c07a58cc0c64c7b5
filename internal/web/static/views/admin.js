// /admin: the admin console. The server's health and figures, the queue of
// reports with what the reporter saw, accounts (search, disable, enable, sign
// out, a password reset link, their devices and invites), the live rooms (join,
// join as a moderator, end) and the audit log of what admins did. Every route is
// admins only.

import { h, replace, avatar, timeAgo, plural } from '../dom.js';
import { get, post, api, enc } from '../api.js';
import { app, toast } from '../state.js';
import { errorBox, busy, sheet, copyButton } from './ui.js';
import { REASONS } from './report.js';
import { device } from './account.js';

const REASON_WORDS = Object.fromEntries(REASONS);
const ACTION_WORDS = {
  disable: 'disabled', enable: 'enabled', sign_out: 'signed out', reset_link: 'made a reset link for', reset_mail: 'mailed a reset link to',
  end_room: 'ended the room', resolve_report: 'handled the report', moderate_room: 'joined to moderate the room',
};

// confirmButton runs f on a second click (the first asks "really?").
function confirmButton(label, really, f, cls = 'btn btn-small') {
  const b = h('button', { type: 'button', class: cls }, label);
  let armed = false;
  b.addEventListener('click', () => {
    if (!armed) { armed = true; b.textContent = really; return; }
    f(b);
  });
  return b;
}

// moderateButton joins room x on stage as a moderator: the server records the
// admin's request in the room, then the room page joins as usual.
function moderateButton(x, box) {
  const b = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'moderate' }, 'Join as moderator');
  b.addEventListener('click', () => busy(b, async () => {
    await post(`/admin/rooms/${enc(x.id)}/moderate`);
    app.navigate(`/rooms/${enc(x.id)}`, { autojoin: true });
  }, box));
  return b;
}

function section(id, title, ...body) {
  return h('section', { class: 'card settings-section', 'aria-labelledby': id }, h('h2', { id }, title), ...body);
}

export async function adminView() {
  if (!app.me.is_admin) {
    return { title: 'Admin', el: h('section', { class: 'card narrow center' }, h('h1', null, 'Admins only'), h('p', null, 'This page is for the admins of this server.')) };
  }
  const figures = h('div', { class: 'figures', 'aria-live': 'polite' });
  const reports = h('ul', { class: 'report-list', 'data-testid': 'reports' });
  const users = h('ul', { class: 'admin-list', 'data-testid': 'users' });
  const rooms = h('ul', { class: 'admin-list', 'data-testid': 'rooms' });
  const audit = h('ul', { class: 'audit-list', 'data-testid': 'audit' });
  const err = errorBox();

  let mailOn = false; // the server can mail reset links (--smtp-addr)
  const loadFigures = async () => {
    const s = await get('/admin/stats');
    mailOn = Boolean(s.mail);
    const fig = (n, label, warn) => h('div', { class: ['figure', warn && 'warn'] }, h('strong', null, String(n)), h('span', { class: 'muted small' }, label));
    replace(figures,
      h('div', { class: 'figure' }, h('strong', null, h('span', { class: ['pill', s.ready ? 'health-ok' : 'health-bad'] }, s.ready ? 'Healthy' : 'Not ready')),
        h('span', { class: 'muted small' }, plural(s.nodes, 'node'))),
      fig(s.open_reports, 'open reports', s.open_reports > 0), fig(s.rooms, 'live rooms'), fig(s.speakers, 'on stage'),
      fig(s.listeners, 'listening'), fig(s.sockets, 'open sockets'), fig(s.users, 'accounts'), fig(s.disabled, 'disabled'));
  };

  const contextLines = (c) => Object.entries(c || {}).filter(([k, v]) => k !== 'photo' && v !== '' && v !== null && v !== undefined)
    .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${Array.isArray(v) ? v.map((p) => p.display_name || p).join(', ') : typeof v === 'object' ? JSON.stringify(v) : v}`).join('\n');

  const reportItem = (r) => {
    const box = errorBox();
    const note = h('input', { type: 'text', class: 'link-input', placeholder: 'What you did (optional)', 'aria-label': 'What you did', maxlength: 500 });
    const done = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-testid': 'resolve' }, 'Mark handled');
    done.addEventListener('click', () => busy(done, async () => {
      await post(`/admin/reports/${enc(r.id)}/resolve`, { resolution: note.value.trim() });
      toast('Report handled.', 'info', 2500);
      await refresh();
    }, box));
    const acts = [];
    const subj = r.subject_account;
    if (subj && subj.username && !subj.disabled) {
      acts.push(confirmButton(`Disable @${subj.username}`, `Really disable @${subj.username}? They are signed out at once.`, (b) => busy(b, async () => {
        await post(`/admin/users/${enc(subj.username)}/disable`);
        toast(`@${subj.username} is disabled.`, 'info', 2500);
        await refresh();
      }, box), 'btn btn-small btn-danger'));
    } else if (subj && subj.disabled) {
      acts.push(h('span', { class: 'pill health-bad' }, `@${subj.username} is disabled`));
    }
    if (r.kind === 'room') {
      acts.push(confirmButton('End the room', 'Really end it for everyone?', (b) => busy(b, async () => {
        await post(`/admin/rooms/${enc(r.target)}/end`);
        toast('The room is over.', 'info', 2500);
        await refresh();
      }, box), 'btn btn-small'));
    }
    return h('li', { class: 'report', 'data-report-id': r.id },
      h('div', { class: 'report-head' },
        h('span', { class: 'tag' }, r.kind), h('strong', null, REASON_WORDS[r.reason] || r.reason),
        r.subject ? h('a', { href: `/u/${enc(r.subject.username)}` }, avatar(r.subject, 'xs'), ' ', r.subject.display_name) : null,
        h('span', { class: 'muted small' }, `reported by @${r.reporter ? r.reporter.username : '?'} ${timeAgo(r.created_at)}`)),
      r.details ? h('p', { class: 'bio' }, `“${r.details}”`) : null,
      h('pre', { class: 'report-context' }, contextLines(r.context)),
      h('div', { class: 'row wrap' }, acts, note, done), box.el);
  };

  const loadReports = async () => {
    const r = await get('/admin/reports?limit=50');
    replace(reports, r.reports.length === 0 ? h('li', { class: 'muted' }, 'No open reports. All quiet.') : r.reports.map(reportItem));
  };

  const userSheet = async (username) => {
    const d = await get(`/admin/users/${enc(username)}`);
    sheet(`@${username}`, () => [
      h('div', { class: 'sheet-person' }, avatar(d.user, 'xl'), h('p', null, h('strong', null, d.user.display_name)),
        h('p', { class: 'muted small' }, `Joined ${new Date(d.user.created_at).toLocaleDateString()}`, d.user.disabled ? ' · disabled' : '')),
      h('h3', null, 'Devices'),
      d.sessions.length === 0 ? h('p', { class: 'muted' }, 'Not signed in anywhere.')
        : h('ul', { class: 'admin-list' }, d.sessions.map((s) => h('li', { class: 'session-row' }, h('div', { class: 'session-main' },
          h('strong', null, device(s.user_agent)), h('span', { class: 'muted small' }, `last seen ${timeAgo(s.last_seen)}`))))),
      h('h3', null, 'Invites they made'),
      d.invites.length === 0 ? h('p', { class: 'muted' }, 'None.')
        : h('p', null, `${plural(d.invites.length, 'invite')}, ${d.invites.filter((i) => i.used).length} used.`),
    ]);
  };

  // showResetLink makes a reset link and shows it to the admin, who hands it over.
  const showResetLink = async (u) => {
    const r = await post(`/admin/users/${enc(u.username)}/reset-link`);
    await loadAudit();
    sheet(`A new password for @${u.username}`, () => [
      h('p', null, 'Send this link to them yourself. It works once, for a day; using it signs them out everywhere.'),
      h('div', { class: 'row' }, h('input', { type: 'text', readonly: true, value: r.url, class: 'link-input', 'aria-label': 'Reset link', 'data-testid': 'reset-link' }), copyButton(r.url))]);
  };

  // resetChoice offers to mail the link to the address the account's owner
  // gave (the admin never sees the link), or to show it.
  const resetChoice = (u) => {
    const box = errorBox();
    const byMail = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'reset-mail' }, 'Send it to their e-mail address');
    const show = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Show me the link');
    const s = sheet(`A new password for @${u.username}`, (close) => {
      show.addEventListener('click', () => busy(show, async () => { await showResetLink(u); close(); }, box));
      return [h('p', null, 'They gave an e-mail address. The link can go there, where only they see it; or you see it and hand it over yourself. It works once, for a day; using it signs them out everywhere.'),
        h('div', { class: 'row wrap' }, byMail, show), box.el];
    });
    byMail.addEventListener('click', () => busy(byMail, async () => {
      const r = await post(`/admin/users/${enc(u.username)}/reset-link`, { send: 'mail' });
      await loadAudit();
      replace(s.body, h('p', { 'data-testid': 'reset-sent' }, `Sent to ${r.sent_to}. It works once, for a day.`));
    }, box));
  };

  const userItem = (u) => {
    const box = errorBox();
    const acts = [];
    if (u.id !== app.me.id) {
      if (u.disabled) {
        const b = h('button', { type: 'button', class: 'btn btn-small' }, 'Enable');
        b.addEventListener('click', () => busy(b, async () => { await post(`/admin/users/${enc(u.username)}/enable`); await loadUsers(); await loadAudit(); }, box));
        acts.push(b);
      } else {
        acts.push(confirmButton('Disable', 'Really disable?', (b) => busy(b, async () => {
          await post(`/admin/users/${enc(u.username)}/disable`);
          await loadUsers();
          await loadAudit();
        }, box), 'btn btn-small btn-ghost danger-text'));
        acts.push(confirmButton('Sign out', 'Sign out everywhere?', (b) => busy(b, async () => {
          await api('DELETE', `/admin/users/${enc(u.username)}/sessions`);
          toast(`@${u.username} is signed out everywhere.`, 'info', 2500);
          await loadAudit();
        }, box), 'btn btn-small btn-ghost'));
      }
      const reset = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'reset' }, 'Reset link');
      reset.addEventListener('click', () => busy(reset, async () => {
        if (mailOn && u.has_email) resetChoice(u);
        else await showResetLink(u);
      }, box));
      acts.push(reset);
    }
    const more = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'Details');
    more.addEventListener('click', () => busy(more, () => userSheet(u.username), box));
    return h('li', { class: 'admin-row', 'data-username': u.username },
      avatar(u, 'sm'),
      h('div', { class: 'admin-main' }, h('a', { href: `/u/${enc(u.username)}` }, u.display_name),
        h('span', { class: 'muted small' }, `@${u.username}`, u.is_admin ? ' · admin' : '', u.disabled ? ' · disabled' : '')),
      more, acts, box.el);
  };

  const q = h('input', { type: 'search', class: 'link-input', placeholder: 'Search by name', 'aria-label': 'Search accounts', maxlength: 50 });
  const loadUsers = async () => {
    const r = await get('/admin/users?limit=50&q=' + enc(q.value.trim()));
    replace(users, r.users.length === 0 ? h('li', { class: 'muted' }, 'Nobody matches.') : r.users.map(userItem));
  };
  let searchTimer = 0;
  q.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => loadUsers().catch((e) => err.show(e.message)), 250); });

  const loadRooms = async () => {
    const r = await get('/admin/rooms');
    replace(rooms, r.rooms.length === 0 ? h('li', { class: 'muted' }, 'No live rooms.') : r.rooms.map((x) => {
      const box = errorBox();
      const end = confirmButton('End', 'End it for everyone?', (b) => busy(b, async () => { await post(`/admin/rooms/${enc(x.id)}/end`); await refresh(); }, box), 'btn btn-small btn-ghost danger-text');
      return h('li', { class: 'admin-row', 'data-room-id': x.id },
        h('div', { class: 'avatar-stack', 'aria-hidden': 'true' }, (x.stage || []).slice(0, 3).map((p) => avatar(p, 'sm'))),
        h('div', { class: 'admin-main' }, h('strong', null, x.title),
          h('span', { class: 'muted small' }, `${x.type} · ${plural((x.stage || []).length, 'speaker')} · ${plural(x.listener_count, 'listener')}${x.node ? ' · on ' + x.node : ''}`)),
        h('a', { href: `/rooms/${enc(x.id)}`, class: 'btn btn-small' }, 'Join'), moderateButton(x, box), end, box.el);
    }));
  };

  const loadAudit = async () => {
    const r = await get('/admin/audit?limit=30');
    replace(audit, r.entries.length === 0 ? h('li', { class: 'muted' }, 'Nothing yet.') : r.entries.map((e) => h('li', { class: 'audit-row' },
      avatar(e.admin, 'xs'), h('span', null, h('strong', null, e.admin ? e.admin.display_name : '?'), ' ', ACTION_WORDS[e.action] || e.action, ' ',
        h('code', null, e.target), e.detail ? ` — ${e.detail}` : ''),
      h('time', { datetime: e.at, class: 'muted small' }, timeAgo(e.at)))));
  };

  const refresh = () => Promise.all([loadFigures(), loadReports(), loadUsers(), loadRooms(), loadAudit()]).catch((e) => err.show(e.message));
  await refresh();
  const timer = setInterval(() => { loadFigures().catch(() => {}); loadRooms().catch(() => {}); }, 10000);

  return {
    title: 'Admin',
    destroy: () => { clearInterval(timer); clearTimeout(searchTimer); },
    el: h('section', { class: 'admin', 'data-testid': 'admin' },
      h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Admin'), h('p', { class: 'muted' }, 'Reports, accounts and live rooms. Everything you do here is in the log below.'))),
      err.el, figures,
      section('reports-h', 'Reports', reports),
      section('users-h', 'Accounts', q, users),
      section('rooms-h', 'Live rooms', rooms),
      section('audit-h', 'Audit log', audit)),
  };
}
