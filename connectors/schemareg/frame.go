package schemareg

import (
	"encoding/binary"
	"fmt"
)

// The Confluent wire format: magic byte 0, the schema id as a 4-byte big
// endian integer, then the payload.
const (
	magic      = 0
	HeaderSize = 5
)

// FrameError is a message without a valid Confluent header.
type FrameError struct {
	Msg string
}

func (e *FrameError) Error() string { return e.Msg }

// AppendHeader appends the Confluent header of schema id to b.
func AppendHeader(b []byte, id int) []byte {
	b = append(b, magic)
	return binary.BigEndian.AppendUint32(b, uint32(id))
}

// SplitFrame returns the schema id and payload of a Confluent-framed
// message.
func SplitFrame(msg []byte) (id int, payload []byte, err error) {
	if len(msg) < HeaderSize {
		return 0, nil, &FrameError{Msg: fmt.Sprintf(
			"schema registry: message of %d bytes is too short for the Confluent header (magic byte 0 and a 4-byte schema id); was it written without the schema registry?", len(msg))}
	}
	if msg[0] != magic {
		hint := ""
		switch msg[0] {
		case '{', '[':
			hint = " (it looks like plain JSON)"
		case 'O':
			hint = " (it looks like an Avro container file)"
		}
		return 0, nil, &FrameError{Msg: fmt.Sprintf(
			"schema registry: message does not start with the Confluent magic byte 0 (found 0x%02x)%s; was it written without the schema registry?", msg[0], hint)}
	}
	return int(binary.BigEndian.Uint32(msg[1:5])), msg[HeaderSize:], nil
}
