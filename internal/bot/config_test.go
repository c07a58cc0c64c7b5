package bot

import "testing"

func TestRoomIDComesFromAnIDOrALink(t *testing.T) {
	tests := []struct{ in, want string }{
		{"lefc4hr2vnnwdq7krj7whij5bq", "lefc4hr2vnnwdq7krj7whij5bq"},
		{"http://localhost:8080/rooms/lefc4hr2vnnwdq7krj7whij5bq", "lefc4hr2vnnwdq7krj7whij5bq"},
		{"https://townhall.example/rooms/lefc4hr2vnnwdq7krj7whij5bq/?ref=mail#top", "lefc4hr2vnnwdq7krj7whij5bq"},
		{"  r1  ", "r1"},
		{"", ""},
		{"https://townhall.example/", "townhall.example"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := roomID(tt.in); got != tt.want {
				t.Fatalf("%q, want %q", got, tt.want)
			}
		})
	}
}
