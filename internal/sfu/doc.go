// Package sfu is townhall's media server: one WebRTC connection per participant, a
// fixed number K of audio slots per participant, and the forwarding of the loudest
// allowed speakers of a room into those slots.
//
// # Transports
//
// The connections are made by one of two transports (Config.Transport):
//
//   - lean, the default: the server half of WebRTC that audio needs, built from
//     pion's lower-level packages the way mediasoup and Janus keep it: ICE-lite on
//     the shared UDP port and the ICE-TCP port, a pion/dtls handshake per
//     connection whose only product is the SRTP keys, then AES-128-GCM SRTP
//     sealed in place into per-core batches written with sendmmsg. A connected
//     listener is a leanConn and a receiver: no goroutine, timer or buffer. See
//     leanTransport.
//   - pion: one pion PeerConnection per participant (RTCP reports, interceptors,
//     a dozen goroutines each), kept to compare and as a fallback.
//
// Both offer the same media and pass the same tests, with pion clients and with
// Chromium.
//
// The package knows nothing of rooms, HTTP, SQL or signaling formats. Participants
// are opaque string IDs; the room layer calls the API below and relays SDP and ICE
// candidates over its own socket.
//
// # How the room layer uses it
//
// Once per process: NewEngine. Once per live room: Engine.NewForwarder, then
// Forwarder.OnActive to learn, about five times a second, who is heard in which
// slot (for active-speaker events).
//
// A participant joins the room's media:
//
//	peer, err := engine.NewPeer(userID, fwd, sendCandidate, stateChanged)
//	offer, err := peer.Offer(ctx)       // send it to the client
//	err = peer.SetAnswer(answer)        // the client's answer
//	err = peer.AddCandidate(candidate)  // each candidate the client trickles, after its answer
//
// The offer has K sendonly audio m-lines, the slots (mids "0" to "K-1"), and one
// recvonly m-line for the microphone (mid "K"). A browser answers with that m-line
// set to sendonly and no track, and calls replaceTrack(mic) when its user goes on
// stage: nothing is ever renegotiated.
//
// Going on stage or unmuting: Forwarder.SetAllowed(userID, true), then the event.
// Muting or leaving the stage: Forwarder.SetAllowed(userID, false) first, then the
// event: when SetAllowed returns, no packet of that speaker is being or will be
// forwarded, so no listener hears them after it has been told they are muted.
//
// Leaving: Peer.Close (and SetAllowed(userID, false) if they were allowed; the
// permission otherwise stays for a Peer made on reconnection). A Peer whose client
// goes away closes by itself after Config.DisconnectTimeout and reports StateClosed.
// Ending the room: close its Peers, then Forwarder.Close.
package sfu
