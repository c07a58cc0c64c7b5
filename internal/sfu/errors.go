package sfu

import "github.com/townhall/townhall/internal/errcode"

// Errors of the media layer. The room layer relays SDP and ICE candidates from
// clients, so the errors a client can cause carry a stable code from errcode.
var (
	// ErrBadAnswer refuses an SDP answer that is not one, is malformed, does not match
	// the offer (number of media sections) or lacks a DTLS fingerprint.
	ErrBadAnswer = errcode.New(errcode.BadRequest, "the SDP answer is not valid")
	// ErrAnswerTooLarge refuses an SDP answer over MaxAnswerBytes.
	ErrAnswerTooLarge = errcode.New(errcode.TooLarge, "the SDP answer is too large")
	// ErrBadCandidate refuses a malformed or oversized ICE candidate.
	ErrBadCandidate = errcode.New(errcode.BadRequest, "the ICE candidate is not valid")
	// ErrOutOfOrder refuses a signaling step out of sequence: an answer before the
	// offer or a second one, a candidate before the answer, a second offer.
	ErrOutOfOrder = errcode.New(errcode.Conflict, "signaling message out of order")
	// ErrClosed refuses a call on a closed Peer, Forwarder or Engine.
	ErrClosed = errcode.New(errcode.Conflict, "the media connection is closed")
	// ErrDuplicatePeer refuses a second Peer with the same participant ID in one
	// Forwarder while the first is still open: close the old one first.
	ErrDuplicatePeer = errcode.New(errcode.Conflict, "this participant already has a media connection in the room")
)
