package api

import "testing"

// FuzzDecodeCreateRoom decodes POST /api/v1/rooms bodies, seeded with a room
// recorded with clips and the smallest room.
func FuzzDecodeCreateRoom(f *testing.F) {
	seed(f, "room-")
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decode[createRoomRequest](data)
		checkDecodeError(t, err)
		if err == nil && r.Type == "" {
			t.Fatalf("%s decoded without a type: validate sets open", data)
		}
	})
}
