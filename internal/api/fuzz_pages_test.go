package api

import "testing"

// The bodies of the invitation pages and of Web Push: each decoder of outside
// input is fuzzed, seeded with real requests (testdata/requests).

func FuzzDecodePageAnswer(f *testing.F) {
	seed(f, "pageanswer")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[pageAnswerRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodePageReply(f *testing.F) {
	seed(f, "pagereply")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[pageReplyRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodePagePatch(f *testing.F) {
	seed(f, "pagepatch")
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decode[pagePatchRequest](data)
		checkDecodeError(t, err)
		if err == nil && r.Public == nil {
			t.Fatal("a patch without public was accepted")
		}
	})
}

func FuzzDecodePageSignup(f *testing.F) {
	seed(f, "pagesignup")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[pageSignupRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodePushSubscription(f *testing.F) {
	seed(f, "pushsub")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[subscribeRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodePushKinds(f *testing.F) {
	seed(f, "pushkinds")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[pushKindsRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeRoomInvite(f *testing.F) {
	seed(f, "roominvite")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[inviteRequest](data)
		checkDecodeError(t, err)
	})
}
