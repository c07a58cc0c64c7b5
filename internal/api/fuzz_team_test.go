package api

import "testing"

// The decoders of the club, event, delegate and notification-settings requests,
// fuzzed from the seeds in testdata/requests: a decoder failure always carries a
// client error code.

func FuzzDecodeEvent(f *testing.F) {
	seed(f, "event-")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[eventRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeEventPatch(f *testing.F) {
	seed(f, "eventpatch")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[eventPatchRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeEventInvite(f *testing.F) {
	seed(f, "eventinvite")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[eventInviteRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeClub(f *testing.F) {
	seed(f, "club-")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[clubRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeClubPatch(f *testing.F) {
	seed(f, "clubpatch")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[clubPatchRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeClubRoom(f *testing.F) {
	seed(f, "clubroom")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[clubRoomRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeRole(f *testing.F) {
	seed(f, "role")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[roleRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeDecision(f *testing.F) {
	seed(f, "decision")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[decisionRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeDelegate(f *testing.F) {
	seed(f, "delegate")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[delegateRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeNotificationSettings(f *testing.F) {
	seed(f, "notifsettings")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[notificationSettingsRequest](data)
		checkDecodeError(t, err)
	})
}
