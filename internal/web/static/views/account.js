// The account's own settings (on /settings): the profile photo, the password,
// the e-mail address for reset links, the devices signed in, and deleting the
// account.

import { h, replace, avatar, timeAgo } from '../dom.js';
import { get, put, del, api, enc } from '../api.js';
import { app, toast } from '../state.js';
import { field, errorBox, busy } from './ui.js';

const MAX_PHOTO = 10 << 20;

// photoSection uploads a photo (PUT /me/photo: the server checks it, crops it
// square and strips its metadata) or removes it.
export function photoSection() {
  const box = h('section', { class: 'card settings-section', 'aria-labelledby': 'photo-h' });
  const err = errorBox();
  const input = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp', class: 'file-input', 'data-testid': 'photo-input', 'aria-label': 'Choose a photo' });
  const remove = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'Remove photo');
  const draw = () => {
    remove.hidden = !app.me.photo;
    replace(box, h('h2', { id: 'photo-h' }, 'Profile photo'),
      h('div', { class: 'photo-edit' }, h('span', { 'data-testid': 'photo-preview' }, avatar(app.me, 'xxl')),
        h('div', { class: 'stack tight' }, input, h('p', { class: 'hint' }, 'JPEG, PNG or WebP, up to 10 MB. It is cropped square; what the file says about where and when it was taken is dropped.'), remove)),
      err.el);
  };
  input.addEventListener('change', async () => {
    const f = input.files && input.files[0];
    if (!f) return;
    err.clear();
    if (f.size > MAX_PHOTO) { err.show('That file is over 10 MB. Choose a smaller one.'); input.value = ''; return; }
    input.disabled = true;
    try {
      const res = await fetch('/api/v1/me/photo', { method: 'PUT', credentials: 'same-origin', body: f });
      const data = await res.json().catch(() => null);
      if (!res.ok) throw new Error((data && data.error && data.error.message) || `The server answered ${res.status}.`);
      app.setMe(data);
      toast('Photo saved.', 'info', 2500);
      draw();
    } catch (e) {
      err.show(e.message.replace(/^photo: /, ''));
    } finally {
      input.disabled = false;
      input.value = '';
    }
  });
  remove.addEventListener('click', () => busy(remove, async () => {
    await del('/me/photo');
    app.setMe({ ...app.me, photo: undefined });
    draw();
  }, err));
  draw();
  return box;
}

// passwordSection changes the password; every other device is signed out.
export function passwordSection() {
  const current = field('Current password', { type: 'password', autocomplete: 'current-password', required: true });
  const next = field('New password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 256 }, 'At least 8 characters. Every other device signed in to your account is signed out.');
  const err = errorBox();
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password');
  const form = h('form', { class: 'stack', 'aria-label': 'Change password' }, current.el, next.el, err.el, h('div', { class: 'row' }, save));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    busy(save, async () => {
      await put('/me/password', { current_password: current.input.value, new_password: next.input.value });
      current.input.value = '';
      next.input.value = '';
      toast('Password changed. Your other devices were signed out.', 'info', 4000);
      form.dispatchEvent(new CustomEvent('changed', { bubbles: true }));
    }, err);
  });
  return h('section', { class: 'card settings-section', 'aria-labelledby': 'pw-h' }, h('h2', { id: 'pw-h' }, 'Password'), form);
}

// emailSection sets the address an admin may send a password reset link to
// (PUT /me/email, with the password), or removes it. Nobody else sees it.
export function emailSection() {
  const email = field('E-mail address (optional)', { type: 'email', name: 'email', autocomplete: 'email', maxlength: 254, value: app.me.email || '', 'data-testid': 'email-input' },
    'Only for a password reset link, if you ever need one: an admin can have it sent here without seeing it. Nobody else sees this address.');
  const pw = field('Password, to confirm', { type: 'password', autocomplete: 'current-password', required: true }, 'Your password: needed to change or remove the address.');
  const err = errorBox();
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save address');
  const remove = h('button', { type: 'button', class: 'btn btn-ghost', hidden: !app.me.email }, 'Remove address');
  const form = h('form', { class: 'stack', 'aria-label': 'E-mail address' }, email.el, pw.el, err.el, h('div', { class: 'row' }, save, remove));
  const send = (address) => busy(address ? save : remove, async () => {
    const me = await put('/me/email', { email: address, current_password: pw.input.value });
    app.setMe(me);
    pw.input.value = '';
    email.input.value = me.email || '';
    remove.hidden = !me.email;
    toast(me.email ? 'Address saved.' : 'Address removed.', 'info', 2500);
  }, err);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    send(email.input.value.trim());
  });
  remove.addEventListener('click', () => {
    if (!pw.input.reportValidity()) return;
    send('');
  });
  return h('section', { class: 'card settings-section', 'aria-labelledby': 'email-h' }, h('h2', { id: 'email-h' }, 'E-mail address'), form);
}

// device names a session's browser from its user agent, in words.
export function device(ua) {
  ua = String(ua || '');
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari' : /^townhall|Go-http-client/.test(ua) ? 'townhall client' : /curl\//.test(ua) ? 'curl' : '';
  const os = /iPhone|iPad/.test(ua) ? 'iOS' : /Android/.test(ua) ? 'Android' : /Mac OS X/.test(ua) ? 'macOS'
    : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return [browser, os].filter(Boolean).join(' on ') || ua.slice(0, 60) || 'Unknown device';
}

// sessionsSection lists the devices signed in, with when each was last seen,
// and signs out one or all the others.
export function sessionsSection() {
  const box = h('section', { class: 'card settings-section', 'aria-labelledby': 'sess-h', 'data-testid': 'sessions' });
  const list = h('ul', { class: 'admin-list' });
  const err = errorBox();
  const all = h('button', { type: 'button', class: 'btn btn-small' }, 'Sign out all other devices');
  const load = async () => {
    try {
      const r = await get('/sessions');
      all.hidden = r.sessions.length < 2;
      replace(list, r.sessions.map((s) => {
        const out = h('button', { type: 'button', class: 'btn btn-small btn-ghost danger-text' }, s.current ? 'Log out' : 'Sign out');
        out.addEventListener('click', () => busy(out, async () => {
          if (s.current) { await app.signOut(); app.navigate('/login'); return; }
          await del('/sessions/' + enc(s.id));
          await load();
        }, err));
        return h('li', { class: 'session-row', 'data-session': s.id },
          h('div', { class: 'session-main' }, h('strong', null, device(s.user_agent), s.current ? h('span', { class: 'tag' }, 'this device') : null),
            h('span', { class: 'muted small' }, `Signed in ${timeAgo(s.created_at)} · last seen ${s.current ? 'now' : timeAgo(s.last_seen)}`)),
          out);
      }));
    } catch (e) {
      replace(list, h('li', { class: 'form-error' }, e.message));
    }
  };
  all.addEventListener('click', () => busy(all, async () => {
    const r = await api('DELETE', '/sessions');
    toast(r.ended === 1 ? 'One device signed out.' : `${r.ended} devices signed out.`, 'info', 3000);
    await load();
  }, err));
  load();
  replace(box, h('h2', { id: 'sess-h' }, 'Devices'), h('p', { class: 'muted' }, 'Where you are signed in. Signing a device out closes its rooms and sound at once.'),
    list, err.el, h('div', { class: 'row' }, all));
  box.addEventListener('refresh', load);
  return box;
}

// deleteSection deletes the account, once the password says it is the user.
export function deleteSection() {
  const pw = field('Your password', { type: 'password', autocomplete: 'current-password', required: true });
  const err = errorBox();
  const go = h('button', { type: 'submit', class: 'btn btn-danger' }, 'Delete my account');
  let armed = false;
  const form = h('form', { class: 'stack', 'aria-label': 'Delete my account' }, pw.el, err.el, h('div', { class: 'row' }, go));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    if (!armed) { armed = true; go.textContent = 'Really delete it? This cannot be undone.'; return; }
    busy(go, async () => {
      await api('DELETE', '/me', { password: pw.input.value });
      await app.signedOutHere();
      toast('Your account is deleted.', 'info', 5000);
      app.navigate('/login', {}, { replace: true });
    }, err);
  });
  return h('section', { class: 'card settings-section', 'aria-labelledby': 'delete-h' }, h('h2', { id: 'delete-h' }, 'Delete my account'),
    h('p', { class: 'muted' }, 'Your name, bio, photo, follows, notifications and devices go at once; the rooms you are running end; your upcoming events are cancelled; a club you alone run passes to its longest-standing member, or closes if nobody else is in it. Rooms you spoke in keep “Deleted account” in their history.'),
    form);
}
