// /login: sign in with a username and password.

import { h } from '../dom.js';
import { post } from '../api.js';
import { app } from '../state.js';
import { field, errorBox, busy } from './ui.js';

// safeNext keeps a ?next= redirect inside the app.
function safeNext(q) {
  const n = q.get('next') || '/';
  return n.startsWith('/') && !n.startsWith('//') ? n : '/';
}

export async function loginView({ query }) {
  const next = safeNext(query);
  if (app.me) {
    return {
      title: 'Log in',
      el: h('section', { class: 'card narrow center' },
        h('h1', null, `You are signed in as ${app.me.display_name}`),
        h('div', { class: 'row center' },
          h('a', { href: next, class: 'btn btn-primary' }, 'Continue'),
          h('button', { type: 'button', class: 'btn', onclick: async () => { await app.signOut(); app.navigate('/login'); } }, 'Log out'))),
    };
  }
  const username = field('Username', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = field('Password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Log in');
  const form = h('form', { class: 'stack' }, username.el, password.el, err.el, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      const res = await post('/login', { username: username.input.value.trim(), password: password.input.value });
      await app.signIn(res.user);
      app.navigate(next, {}, { replace: true });
    }, err);
  });
  return {
    title: 'Log in',
    el: h('section', { class: 'card narrow' },
      h('div', { class: 'welcome' }, h('h1', null, 'Welcome back'), h('p', { class: 'lede' }, 'Drop in on live conversations with people you follow.')),
      query.get('reset') ? h('p', { class: 'note', role: 'status' }, 'Your password is set. Every device was signed out: log in with the new one.') : null,
      form,
      h('p', { class: 'muted small center' }, 'New here? townhall is invite-only: ask someone for an invite link.')),
  };
}
