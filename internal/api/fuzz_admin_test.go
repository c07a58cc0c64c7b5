package api

import "testing"

func FuzzDecodeReport(f *testing.F) {
	seed(f, "report")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[reportRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeResolve(f *testing.F) {
	seed(f, "resolve")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[resolveRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeDeleteMe(f *testing.F) {
	seed(f, "deleteme")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[deleteMeRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeReset(f *testing.F) {
	seed(f, "reset")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[resetRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeEmail(f *testing.F) {
	seed(f, "email")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[emailRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeSendLink(f *testing.F) {
	seed(f, "sendlink")
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := decode[resetLinkRequest](data)
		checkDecodeError(t, err)
		if err == nil && q.Send != "" && q.Send != "mail" {
			t.Fatalf("send %q was taken", q.Send)
		}
	})
}
