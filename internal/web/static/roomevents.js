// applyEvent keeps a RoomSession's room (the last snapshot) current with one
// event of the room socket (the kinds of internal/room/events.go and
// internal/live; docs/protocol.md, Events). The session s gives the room, the
// user and the parts of the session an event touches.
//
// What only moderators see (the hand queue, the pending invitations to speak),
// a user who is not one is told of their own alone (docs/protocol.md).
export function applyEvent(s, kind, d) {
  const r = s.room;
  const dropListener = (id) => {
    const before = r.listeners.length;
    r.listeners = r.listeners.filter((p) => p.id !== id);
    return before !== r.listeners.length;
  };
  const lowerHand = (id) => { r.raised_hands = r.raised_hands.filter((p) => p.id !== id); };
  const uninvite = (id) => { r.speak_invitations = r.speak_invitations.filter((x) => x !== id); };
  const setStage = (id, f) => { const p = s.stageEntry(id); if (p) f(p); };
  // The hand queue and the pending invitations to speak are the moderators':
  // once the user stops moderating, they keep only their own until the
  // snapshot the server sends them then.
  const unmoderated = (id) => {
    if (!s.you || id !== s.you.id) return;
    const me = s.you.id;
    r.raised_hands = r.raised_hands.filter((p) => p.id === me);
    r.speak_invitations = r.speak_invitations.filter((x) => x === me);
    for (const l of r.listeners) if (l.id !== me) l.hand_raised = false;
  };
  switch (kind) {
    case 'joined_stage':
      r.stage = r.stage.filter((p) => p.id !== d.user.id);
      r.stage.push({ ...d.user, role: d.role, muted: d.muted, held: false, since: d.since });
      lowerHand(d.user.id);
      uninvite(d.user.id);
      break;
    case 'left_stage':
      r.stage = r.stage.filter((p) => p.id !== d.user_id);
      unmoderated(d.user_id);
      break;
    case 'listener_joined':
      if (!r.listeners.some((p) => p.id === d.user.id)) {
        r.listeners.push({ ...d.user, hand_raised: false });
        r.listener_count += 1;
      }
      break;
    case 'listener_left':
      if (dropListener(d.user_id) || r.listeners_cut) r.listener_count = Math.max(0, r.listener_count - 1);
      lowerHand(d.user_id);
      uninvite(d.user_id);
      break;
    case 'audience':
      r.listener_count = d.listener_count;
      // Names of individual listeners are no longer sent: refresh them now and then.
      if (!s.audienceRefresh) {
        s.audienceRefresh = setTimeout(() => { s.audienceRefresh = 0; s.signal({ type: 'snapshot' }); }, 5000);
      }
      break;
    case 'hand_raised': {
      const l = s.listener(d.user.id);
      if (l) l.hand_raised = true;
      if (!r.raised_hands.some((p) => p.id === d.user.id)) r.raised_hands.push(d.user);
      break;
    }
    case 'hand_lowered': {
      const l = s.listener(d.user_id);
      if (l) l.hand_raised = false;
      lowerHand(d.user_id);
      break;
    }
    case 'hand_policy_changed':
      r.hand_policy = d.policy;
      break;
    case 'guests_changed':
      r.allow_guests = d.allowed;
      r.guests_closed = !d.allowed;
      break;
    case 'recording_changed':
      r.recorded = d.on;
      break;
    case 'live_captions_changed':
      r.live_captions = d.on;
      if (!d.on) { r.captions_shown = false; s.captions = []; }
      s.syncCaptions();
      break;
    case 'speak_invited':
      if (!r.speak_invitations.includes(d.user_id)) r.speak_invitations.push(d.user_id);
      break;
    case 'speak_declined':
      uninvite(d.user_id);
      break;
    case 'moderator_added':
      // A new moderator gets a snapshot right after this event, with the
      // hand queue and the pending invitations to speak.
      setStage(d.user_id, (p) => { p.role = 'moderator'; });
      break;
    case 'moderator_removed':
      setStage(d.user_id, (p) => { p.role = 'speaker'; });
      unmoderated(d.user_id);
      break;
    case 'muted':
      setStage(d.user_id, (p) => { p.muted = true; p.held = Boolean(d.held); });
      break;
    case 'unmuted':
      setStage(d.user_id, (p) => { p.muted = false; p.held = false; });
      break;
    case 'mute_released':
      setStage(d.user_id, (p) => { p.held = false; });
      break;
    case 'removed':
      // Sent to the removed user only; the bye and close follow.
      s.bye = 'removed';
      break;
    case 'room_ended':
      r.state = 'ended';
      s.bye = 'room_ended';
      break;
    case 'reconnecting':
      setStage(d.user_id, (p) => { p.reconnecting = Boolean(d.reconnecting); });
      break;
    case 'chat': {
      const have = new Set(r.chat.map((m) => m.id));
      for (const m of d.messages || []) if (!have.has(m.id) && !s.hidden.has(m.user_id)) r.chat.push(m);
      break;
    }
    case 'chat_deleted':
      r.chat = r.chat.filter((m) => m.id !== d.id);
      break;
    case 'chat_settings_changed':
      r.chat_mode = d.mode;
      r.slow_seconds = d.slow_seconds || 0;
      if (!r.slow_seconds) s.lastChatAt = 0; // the server forgets too
      break;
    case 'chat_muted':
      r.chat_muted = (r.chat_muted || []).filter((id) => id !== d.user_id);
      if (d.muted) r.chat_muted.push(d.user_id);
      break;
    case 'link_pinned':
      r.pinned_link = d.url || '';
      break;
    case 'reactions_changed':
      r.reactions_allowed = Boolean(d.allowed);
      break;
  }
}
