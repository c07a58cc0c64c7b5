// Package live runs townhall's live rooms: one goroutine owns each room's state
// machine (internal/room), feeds it commands from the room sockets, and delivers the
// events it returns. It also keeps the hallway and the per-user notification stream.
package live
