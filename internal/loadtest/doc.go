// Package loadtest is `townhall loadtest`: a load generator that puts a few speakers
// and many listeners into one room of any townhall server and measures, exactly,
// what the listeners receive: loss, one-way forwarding latency, join time, and the
// CPU and memory of the server (read from its /metrics) and of the generator itself.
//
// The generator is lean so that it can share a small machine with the server it
// measures: a participant is not a pion PeerConnection but the few pieces of WebRTC
// that audio needs, built from pion's lower-level packages:
//
//   - signaling: one WebSocket per participant (docs/protocol.md), of which only the
//     offer is read; every other message is dropped unparsed;
//   - addresses: every participant has a loopback address of its own (127.1.x.y)
//     on a few UDP sockets bound to the unspecified address and shared by all; the
//     kernel tells which participant a packet is for (IP_PKTINFO);
//   - ICE: connectivity checks are sent to the server's one host candidate and the
//     server's checks are answered (RFC 8445 §7.3), whether the server is a full
//     or a lite ICE agent;
//   - DTLS-SRTP: a pion/dtls client handshake (RFC 5764), after which the DTLS
//     connection is dropped and only the SRTP keys are kept; AES-GCM SRTP is
//     opened in place (RFC 7714);
//   - receiving: one goroutine per shared socket (one socket per 250
//     participants, 1 to 4) reads up to 64 packets per recvmmsg, whoever they are
//     for: no goroutine per listener once it has joined, no allocation per packet;
//     the sockets' system calls are raw (internal/udpbatch), as the server's;
//   - scheduling: the generator's threads are SCHED_BATCH (--sched-batch), so that
//     a reader woken by the server's packets waits for an idle core instead of
//     preempting the server in the middle of its fan-out, as listeners on other
//     machines never do.
//
// Speakers (one goroutine and one ticker for all of them) send Opus-sized packets
// (80-byte payload every 20 ms, with an RFC 6464 audio level) whose payload
// carries the speaker's number, a sequence number of its own and the send time, so
// that listeners count loss and measure latency exactly on one machine. Packets
// count when they were sent in the measured window; loss is what joined listeners
// should have received from that window and did not.
package loadtest
