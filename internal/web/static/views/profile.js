// /u/{username}: a profile. Display name, bio, who invited them, followers and
// following, follow and block, the replays of the rooms they hosted or spoke in;
// your own profile can be edited, and is where you make invite links and log
// out.

import { h, replace, avatar } from '../dom.js';
import { get, put, del, patch, post, enc } from '../api.js';
import { app, toast } from '../state.js';
import { field, errorBox, busy, sheet, copyButton } from './ui.js';
import { reportSheet } from './report.js';
import { shareButton } from '../share.js';
import { publicInvitations } from './publicinvitations.js';
import { replayList } from './replay.js';

// BLOCK_MEANS says what a block does (docs/api.md, the block endpoint), after the
// blocked person's name or "they". The server holds every part of it: the account
// service (follows, profile), the room's join rule (rooms you moderate) and the
// room's stage rule, which works both ways (internal/room).
const BLOCK_MEANS = 'can no longer follow you, find your profile or join a room you moderate, and neither of you can be brought on stage while the other is on it.';

function peopleSheet(title, path) {
  sheet(title, () => {
    const list = h('ul', { class: 'people-list' }, h('li', { class: 'muted' }, 'Loading…'));
    get(path + '?limit=100').then((r) => {
      replace(list, r.users.length === 0 ? h('li', { class: 'muted' }, 'Nobody yet.') : r.users.map((u) => h('li', null,
        h('a', { href: `/u/${enc(u.username)}`, class: 'people-row', onclick: () => document.querySelector('dialog.sheet')?.close() },
          avatar(u, 'sm'), h('span', null, u.display_name), h('span', { class: 'muted' }, '@' + u.username)))));
    }).catch((e) => replace(list, h('li', { class: 'form-error' }, e.message)));
    return list;
  });
}

export async function profileView({ params }) {
  const username = params[0].toLowerCase();
  const el = h('section', { class: 'profile' });
  let p = await get('/users/' + enc(username));
  const own = p.id === app.me.id;

  const draw = () => {
    const actions = [];
    const err = errorBox();
    if (own) {
      const edit = h('button', { type: 'button', class: 'btn' }, 'Edit profile');
      edit.addEventListener('click', () => editSheet());
      const invite = h('button', { type: 'button', class: 'btn' }, 'Invite someone to townhall');
      invite.addEventListener('click', () => busy(invite, async () => {
        const inv = await post('/invites');
        sheet('Your invite link', () => [h('p', null, 'Send this link to one person. It works once.'),
          h('div', { class: 'row' }, h('input', { type: 'text', readonly: true, value: inv.url, class: 'link-input', 'aria-label': 'Invite link' }), copyButton(inv.url))]);
      }, err));
      const photo = h('a', { href: '/settings', class: 'btn' }, p.photo ? 'Change photo' : 'Add a photo');
      actions.push(photo);
      const logout = h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'logout' }, 'Log out');
      logout.addEventListener('click', () => busy(logout, async () => { await app.signOut(); app.navigate('/login'); }, err));
      actions.push(edit, invite, h('a', { href: '/invitations', class: 'btn' }, 'Your invitations'), logout);
    } else {
      const follow = h('button', { type: 'button', class: p.you_follow ? 'btn' : 'btn btn-primary', 'aria-pressed': String(p.you_follow), disabled: p.you_block, 'data-testid': 'follow' },
        p.you_follow ? 'Following' : 'Follow');
      follow.addEventListener('click', () => busy(follow, async () => {
        if (p.you_follow) await del(`/users/${enc(username)}/follow`);
        else await put(`/users/${enc(username)}/follow`);
        p = await get('/users/' + enc(username));
        draw();
      }, err));
      const block = h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'block' }, p.you_block ? 'Unblock' : 'Block');
      let armed = false;
      block.addEventListener('click', () => {
        if (!p.you_block && !armed) {
          armed = true;
          block.textContent = 'Block? Click again to confirm';
          return;
        }
        busy(block, async () => {
          if (p.you_block) await del(`/users/${enc(username)}/block`);
          else await put(`/users/${enc(username)}/block`);
          // The room the user is in hides the blocked person's chat messages at
          // once (the server hides the next ones).
          if (app.room) {
            if (p.you_block) app.room.showAuthor(p.id);
            else app.room.hideAuthor(p.id);
          }
          toast(p.you_block ? 'Unblocked.' : `Blocked. ${p.display_name} ${BLOCK_MEANS}`, 'info');
          p = await get('/users/' + enc(username));
          draw();
        }, err);
      });
      const report = h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'report' }, 'Report');
      report.addEventListener('click', () => reportSheet('user', p.username, `@${p.username}`));
      actions.push(follow, block, report);
    }
    const followers = h('button', { type: 'button', class: 'stat' }, h('strong', null, String(p.followers)), ' ', p.followers === 1 ? 'follower' : 'followers');
    followers.addEventListener('click', () => peopleSheet('Followers', `/users/${enc(username)}/followers`));
    const following = h('button', { type: 'button', class: 'stat' }, h('strong', null, String(p.following)), ' following');
    following.addEventListener('click', () => peopleSheet('Following', `/users/${enc(username)}/following`));
    replace(el, h('div', { class: 'card profile-card' },
      h('div', { class: 'profile-top' }, avatar(p, 'xxl'),
        h('div', null,
          h('h1', { 'data-testid': 'profile-name' }, p.display_name),
          h('p', { class: 'muted' }, '@' + p.username, p.is_admin ? h('span', { class: 'tag' }, 'admin') : null, p.follows_you ? h('span', { class: 'tag' }, 'follows you') : null))),
      p.bio ? h('p', { class: 'bio' }, p.bio) : (own ? h('p', { class: 'muted' }, 'No bio yet.') : null),
      h('p', { class: 'stats' }, followers, following),
      p.invited_by ? h('p', { class: 'muted small' }, 'Invited by ', h('a', { href: `/u/${enc(p.invited_by.username)}` }, p.invited_by.display_name)) : null,
      p.disabled ? h('p', { class: 'notice notice-warn' }, 'This account is disabled.') : null,
      p.you_block ? h('p', { class: 'notice notice-soft', 'data-testid': 'you-block' }, `You block this person: they ${BLOCK_MEANS}`) : null,
      h('div', { class: 'row wrap' }, actions, shareButton(() => ({ url: `/u/${p.username}`, title: p.display_name }))),
      own || p.you_block ? null : h('p', { class: 'muted small', 'data-testid': 'block-means' },
        `If you block ${p.display_name}, follows between you end, and they ${BLOCK_MEANS} You can still be in the same room.`),
      err.el));
  };

  const editSheet = () => {
    const name = field('Your name', { value: p.display_name, maxlength: 50, required: true, autocomplete: 'name' });
    const bio = field('Bio', { value: p.bio, multiline: true, maxlength: 300, rows: 4 }, 'Up to 300 characters.');
    bio.input.value = p.bio;
    const err = errorBox();
    const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save');
    sheet('Edit profile', (close) => {
      const form = h('form', { class: 'stack' }, name.el, bio.el, err.el, save);
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        busy(save, async () => {
          const me = await patch('/me', { display_name: name.input.value.trim(), bio: bio.input.value });
          app.setMe(me);
          p = await get('/users/' + enc(username));
          draw();
          close();
          toast('Profile saved.', 'info', 2500);
        }, err);
      });
      return form;
    });
  };

  draw();
  const invs = publicInvitations(`/users/${enc(username)}/public-invitations`, { showTarget: true });
  const replays = replayList(`/users/${enc(username)}/replays`);
  return { title: p.display_name, el: h('div', { class: 'stack' }, el, replays, invs.el), destroy: invs.destroy };
}
