// AudioLink is the room's audio over WebRTC. The server offers K audio m-lines it
// sends (a=sendonly: the loudest speakers) and one it receives (a=recvonly: this
// participant's microphone). The browser answers; candidates trickle both ways on
// the room socket. The microphone is asked for only on stage, and attached with
// replaceTrack, so going on stage needs no renegotiation.

// status: 'waiting' (no offer yet), 'connecting', 'live', 'failed', 'closed'.

// mSections parses the m-sections of an SDP: their kind, mid and direction.
export function mSections(sdp) {
  const out = [];
  let cur = null;
  for (const line of String(sdp).split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      cur = { kind: line.slice(2).split(' ')[0], mid: null, direction: 'sendrecv' };
      out.push(cur);
    } else if (cur && line.startsWith('a=mid:')) {
      cur.mid = line.slice(6).trim();
    } else if (cur && /^a=(sendonly|recvonly|sendrecv|inactive)$/.test(line.trim())) {
      cur.direction = line.trim().slice(2);
    }
  }
  return out;
}

export class AudioLink {
  constructor(session) {
    this.session = session;
    this.pc = null;
    this.sender = null; // the RTCRtpSender of the microphone m-line
    this.mic = null; // the microphone MediaStreamTrack, once granted
    this.micError = ''; // why there is no microphone, in words
    this.status = 'waiting';
    this.players = []; // <audio> elements, one per received slot
    this.blocked = false; // the browser refused to play sound without a click
    this.pendingCandidates = [];
    this.box = null;
  }

  // unlock runs in the join click: it makes the audio elements and calls play()
  // inside the user gesture, so that browsers let them play sound later.
  unlock(count = 3) {
    this.ensureBox();
    while (this.players.length < count) this.players.push(this.newPlayer());
    for (const a of this.players) a.play().catch(() => {});
  }

  ensureBox() {
    if (this.box) return;
    this.box = document.createElement('div');
    this.box.className = 'audio-box';
    this.box.setAttribute('aria-hidden', 'true');
    document.body.appendChild(this.box);
  }

  newPlayer() {
    const a = document.createElement('audio');
    a.autoplay = true;
    a.setAttribute('playsinline', '');
    this.box.appendChild(a);
    return a;
  }

  setStatus(s) {
    if (this.status === s) return;
    this.status = s;
    this.session.changed('audio');
  }

  // onSignal handles offer and candidate messages of the room socket.
  async onSignal(m) {
    try {
      if (m.type === 'offer') await this.onOffer(m.sdp);
      else if (m.type === 'candidate' && m.candidate) await this.onCandidate(m.candidate);
    } catch (e) {
      console.warn('audio negotiation failed', e);
      this.setStatus('failed');
    }
  }

  newPeer() {
    const pc = new RTCPeerConnection(); // no ICE servers: the server's candidates come on the socket
    pc.addEventListener('icecandidate', (e) => {
      const c = e.candidate;
      if (!c || !c.candidate) return;
      // Only the fields of the protocol: the server refuses unknown ones (such
      // as usernameFragment, which toJSON() adds).
      this.session.signal({ type: 'candidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } });
    });
    pc.addEventListener('track', (e) => this.play(e.track, e.transceiver));
    pc.addEventListener('connectionstatechange', () => {
      if (this.pc !== pc) return;
      const s = pc.connectionState;
      if (s === 'connected') this.setStatus('live');
      else if (s === 'failed') this.setStatus('failed');
      else if (s === 'disconnected' || s === 'connecting' || s === 'new') this.setStatus('connecting');
    });
    return pc;
  }

  async onOffer(sdp) {
    if (!this.pc || this.pc.signalingState === 'closed') {
      this.pc = this.newPeer();
      this.sender = null;
    }
    const pc = this.pc;
    this.setStatus('connecting');
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const sections = mSections(sdp);
    for (const t of pc.getTransceivers()) {
      const sec = sections.find((s) => s.mid !== null && s.mid === t.mid);
      if (!sec) continue;
      if (sec.direction === 'recvonly') {
        t.direction = 'sendonly'; // our microphone
        this.sender = t.sender;
      } else if (sec.direction === 'sendonly') {
        t.direction = 'recvonly';
      }
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.session.signal({ type: 'answer', sdp: pc.localDescription.sdp });
    for (const c of this.pendingCandidates.splice(0)) await pc.addIceCandidate(c).catch(() => {});
    await this.attachMic();
  }

  async onCandidate(c) {
    if (!this.pc || !this.pc.remoteDescription) {
      this.pendingCandidates.push(c);
      return;
    }
    await this.pc.addIceCandidate(c).catch((e) => console.warn('bad remote candidate', e));
  }

  // play attaches a received slot to its own playing <audio> element.
  play(track) {
    this.ensureBox();
    let a = this.players.find((p) => !p.srcObject || p.srcObject.getTracks().every((t) => t.readyState === 'ended'));
    if (!a) {
      a = this.newPlayer();
      this.players.push(a);
    }
    a.srcObject = new MediaStream([track]);
    this.playOne(a);
  }

  // playOne plays a; a browser that refuses sound without a click makes the
  // room offer a "Play sound" button (blocked).
  playOne(a) {
    a.play().then(() => {
      if (this.blocked && this.players.every((p) => !p.srcObject || !p.paused)) {
        this.blocked = false;
        this.session.changed('audio-blocked');
      }
    }).catch((e) => {
      if (e && e.name === 'NotAllowedError' && !this.blocked) {
        this.blocked = true;
        this.session.changed('audio-blocked');
      }
    });
  }

  // resumePlayback retries play() from a click (when the browser blocked sound).
  resumePlayback() {
    for (const a of this.players) if (a.srcObject) this.playOne(a);
  }

  // getMic asks for the microphone (only when the user goes on stage) and
  // attaches it, disabled until the user unmutes. Calls while a request is
  // pending share it: the browser asks once.
  getMic() {
    if (this.mic && this.mic.readyState === 'live') return Promise.resolve(this.mic);
    if (!this.micRequest) {
      this.micRequest = this.requestMic().finally(() => { this.micRequest = null; });
    }
    return this.micRequest;
  }

  async requestMic() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.micError = 'This browser cannot use a microphone here (a secure connection, https, is needed).';
      this.session.changed('mic');
      return null;
    }
    this.micWanted = true;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
      const track = stream.getAudioTracks()[0];
      if (!track) throw Object.assign(new Error('no audio track'), { name: 'NotFoundError' });
      if (!this.micWanted) { // back in the audience (or gone) while the browser asked
        track.stop();
        return null;
      }
      this.mic = track;
      this.mic.enabled = false;
      this.mic.addEventListener('ended', () => {
        if (this.mic !== track) return;
        this.micError = 'Your microphone stopped (it was unplugged or taken by another app).';
        this.session.changed('mic');
      });
      this.micError = '';
    } catch (e) {
      this.mic = null;
      this.micError = e && (e.name === 'NotAllowedError' || e.name === 'SecurityError')
        ? 'Microphone blocked. Allow the microphone for this site in your browser settings, then try again.'
        : e && (e.name === 'NotFoundError' || e.name === 'OverconstrainedError')
          ? 'No microphone found. Connect one and try again.'
          : e && e.name === 'NotReadableError'
            ? 'Your microphone is in use by another app, or the system refused it. Close the other app and try again.'
            : 'Could not start your microphone' + (e && e.message ? ': ' + e.message : '.');
    }
    this.session.changed('mic');
    await this.attachMic();
    return this.mic;
  }

  async attachMic() {
    if (this.sender && this.mic && this.sender.track !== this.mic) {
      await this.sender.replaceTrack(this.mic).catch((e) => console.warn('replaceTrack', e));
    }
  }

  // setMicEnabled turns the microphone track on or off (mute is also enforced by the server).
  setMicEnabled(on) {
    if (this.mic) this.mic.enabled = on;
  }

  // releaseMic stops the microphone (back in the audience).
  releaseMic() {
    this.micWanted = false;
    if (this.sender) this.sender.replaceTrack(null).catch(() => {});
    if (this.mic) this.mic.stop();
    this.mic = null;
    this.micError = '';
  }

  // reset drops the peer connection when the socket drops; the next socket gets
  // a new offer. The microphone stays granted.
  reset() {
    if (this.pc) this.pc.close();
    this.pc = null;
    this.sender = null;
    this.pendingCandidates = [];
    for (const a of this.players) a.srcObject = null;
    this.setStatus('waiting');
  }

  close() {
    this.reset();
    this.releaseMic();
    if (this.box) this.box.remove();
    this.box = null;
    this.players = [];
    this.status = 'closed';
  }

  // stats reads getStats: for each received slot its bytes, packets and audio
  // energy, and what the microphone sent. Tests read it through
  // window.__townhall (app.js); it could feed a connection-quality view.
  async stats() {
    const out = {
      status: this.status,
      mic: { granted: Boolean(this.mic), enabled: Boolean(this.mic && this.mic.enabled), error: this.micError },
      inbound: [],
      outbound: [],
    };
    if (!this.pc) return out;
    const mids = new Map(this.pc.getTransceivers().map((t) => [t.receiver.track && t.receiver.track.id, t.mid]));
    (await this.pc.getStats()).forEach((r) => {
      if (r.kind !== 'audio') return;
      if (r.type === 'inbound-rtp') {
        out.inbound.push({
          mid: r.mid || mids.get(r.trackIdentifier) || '', bytesReceived: r.bytesReceived || 0, packetsReceived: r.packetsReceived || 0,
          totalAudioEnergy: r.totalAudioEnergy || 0, audioLevel: r.audioLevel || 0,
        });
      } else if (r.type === 'outbound-rtp') {
        out.outbound.push({ mid: r.mid || '', bytesSent: r.bytesSent || 0, packetsSent: r.packetsSent || 0 });
      }
    });
    return out;
  }
}
