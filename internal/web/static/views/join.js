// /join/{code}: sign up with an invite link. The first-run link makes the admin;
// a link to a conversation lands the new user in that room.

import { h, avatar } from '../dom.js';
import { get, post, enc, ApiError } from '../api.js';
import { app } from '../state.js';
import { field, errorBox, busy } from './ui.js';

export async function joinView({ params }) {
  const code = params[0];
  let info;
  try {
    info = await get('/invites/' + enc(code));
  } catch (e) {
    const gone = e instanceof ApiError && (e.status === 410 || e.status === 404);
    return {
      title: 'Invite link',
      el: h('section', { class: 'card narrow center' },
        h('h1', null, gone ? 'This invite link no longer works' : 'Could not check this invite'),
        h('p', null, gone ? 'It was already used, or it expired. Ask the person who sent it for a new one.' : e.message),
        h('a', { href: '/login', class: 'btn' }, 'Log in instead')),
    };
  }

  const heading = info.admin
    ? h('div', { class: 'welcome' },
      h('p', { class: 'eyebrow' }, 'First run'),
      h('h1', null, 'Welcome to your townhall'),
      h('p', { class: 'lede' }, 'Create the first account. It will be the admin: you can invite people and look after the place.'))
    : h('div', { class: 'welcome' },
      info.invited_by ? h('div', { class: 'inviter' }, avatar(info.invited_by, 'lg')) : null,
      h('h1', null, info.invited_by ? `${info.invited_by.display_name} invited you` : 'You are invited'),
      h('p', { class: 'lede' }, info.room_id
        ? 'Pick a name and a password. You will land right in the conversation you were invited to.'
        : 'Pick a name and a password to join the conversations.'));

  const username = field('Username', { name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 20, pattern: '[A-Za-z0-9_]{3,20}', autocapitalize: 'none', spellcheck: 'false' }, '3–20 letters, digits or _. People find you by it.');
  const display = field('Your name', { name: 'display_name', autocomplete: 'name', maxlength: 50 }, 'How people see you in rooms. You can change it later.');
  const password = field('Password', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 }, 'At least 8 characters.');
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, info.admin ? 'Create the admin account' : 'Join townhall');
  const signedInNote = app.me
    ? h('p', { class: 'note' }, `You are signed in as @${app.me.username}. Signing up here makes a new account.`)
    : null;

  const form = h('form', { class: 'stack', novalidate: true }, username.el, display.el, password.el, err.el, submit);
  // The browser's own words ("Please lengthen this text", "match the requested
  // format") do not say the rule: say it.
  const rule = () => {
    const v = username.input.value.trim();
    username.input.setCustomValidity(/^[A-Za-z0-9_]{3,20}$/.test(v) ? ''
      : v.length < 3 ? 'A username has at least 3 characters: letters, digits or _.'
        : v.length > 20 ? 'A username has at most 20 characters.'
          : 'A username holds only letters a–z, digits and _ (no spaces or accents).');
    password.input.setCustomValidity(password.input.value.length >= 8 || !password.input.value ? '' : 'A password has at least 8 characters.');
  };
  username.input.addEventListener('input', rule);
  password.input.addEventListener('input', rule);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    rule();
    if (!form.reportValidity()) return;
    busy(submit, async () => {
      const res = await post('/signup', {
        username: username.input.value.trim(),
        display_name: display.input.value.trim(),
        password: password.input.value,
        invite_code: code,
      });
      await app.signIn(res.user);
      const room = res.room_id || info.room_id;
      if (room) app.navigate(`/rooms/${enc(room)}`, { autojoin: true }, { replace: true });
      else app.navigate('/', {}, { replace: true });
    }, err);
  });

  return {
    title: info.admin ? 'Welcome' : 'Join',
    el: h('section', { class: 'card narrow' }, heading, signedInNote, form,
      h('p', { class: 'muted small center' }, 'Already have an account? ', h('a', { href: '/login' }, 'Log in'))),
  };
}
