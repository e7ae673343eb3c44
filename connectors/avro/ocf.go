package avro

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
)

// Avro object container files (the spec's "Object Container Files"): a
// record without a registry or 'avro.raw_datum' is one whole file, its
// header carrying the writer schema, as Arroyo writes such records.

var ocfMagic = []byte{'O', 'b', 'j', 1}

const (
	metaSchema = "avro.schema"
	metaCodec  = "avro.codec"
)

type containerState struct {
	inflated bytes.Buffer
	fr       io.ReadCloser
}

// decodeContainer appends the rows of every datum of the container file
// rec; on error it appends nothing.
func (d *Decoder) decodeContainer(rec []byte) error {
	start := d.rows
	err := d.container(rec)
	if err != nil {
		d.rows = start
		d.rollback()
	}
	return err
}

func (d *Decoder) container(rec []byte) error {
	if !bytes.HasPrefix(rec, ocfMagic) {
		hint := ""
		if len(rec) > 0 && rec[0] == 0 {
			hint = " (it starts like a Confluent-framed message: set 'avro.confluent_schema_registry' = 'true')"
		}
		return &DecodeError{Offset: 0, Msg: "not an Avro object container file: missing magic 'Obj\\x01'; for bare datums set 'avro.raw_datum' = 'true'" + hint}
	}
	d.buf, d.pos = rec, len(ocfMagic)
	defer func() { d.buf = nil }()
	var schemaText, codec []byte
	// The metadata map: blocks of (key string, value bytes).
	for {
		n, err := d.long("header")
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if n < 0 {
			n = -n
			if _, err := d.long("header"); err != nil {
				return err
			}
		}
		for range n {
			k, err := d.bytes("header")
			if err != nil {
				return err
			}
			v, err := d.bytes("header")
			if err != nil {
				return err
			}
			switch string(k) {
			case metaSchema:
				schemaText = v
			case metaCodec:
				codec = v
			}
		}
	}
	if schemaText == nil {
		return &DecodeError{Offset: d.pos, Msg: "container header has no 'avro.schema'"}
	}
	if d.pos+16 > len(rec) {
		return d.truncated("header", "sync marker")
	}
	sync := rec[d.pos : d.pos+16]
	d.pos += 16
	p, err := d.containerPlan(schemaText)
	if err != nil {
		return err
	}
	for d.pos < len(rec) {
		count, err := d.long("block")
		if err != nil {
			return err
		}
		size, err := d.length("block")
		if err != nil {
			return err
		}
		at := d.pos
		data := rec[d.pos : d.pos+size]
		d.pos += size
		if d.pos+16 > len(rec) || !bytes.Equal(rec[d.pos:d.pos+16], sync) {
			return &DecodeError{Offset: d.pos, Msg: "container block does not end with the sync marker"}
		}
		d.pos += 16
		switch string(codec) {
		case "", "null":
		case "deflate":
			if data, err = d.inflate(data); err != nil {
				return &DecodeError{Offset: at, Msg: "invalid deflate block: " + err.Error()}
			}
		default:
			return &DecodeError{Offset: at, Msg: fmt.Sprintf("container codec '%s' is not supported (null and deflate are)", codec)}
		}
		next := d.pos
		if err := d.blockDatums(p, data, count); err != nil {
			return err
		}
		d.buf, d.pos = rec, next
	}
	return nil
}

// blockDatums decodes count datums packed in data.
func (d *Decoder) blockDatums(p *Plan, data []byte, count int64) error {
	d.buf, d.pos = data, 0
	for k := int64(0); k < count; k++ {
		if err := d.datum(p.root); err != nil {
			return err
		}
		d.rows++
	}
	if d.pos != len(data) {
		return &DecodeError{Offset: d.pos, Msg: fmt.Sprintf("%d unexpected bytes after the block's %d datums", len(data)-d.pos, count)}
	}
	return nil
}

func (d *Decoder) inflate(data []byte) ([]byte, error) {
	st := &d.ocf
	if st.fr == nil {
		st.fr = flate.NewReader(bytes.NewReader(data))
	} else if err := st.fr.(flate.Resetter).Reset(bytes.NewReader(data), nil); err != nil {
		return nil, err
	}
	st.inflated.Reset()
	if _, err := st.inflated.ReadFrom(st.fr); err != nil {
		return nil, err
	}
	return st.inflated.Bytes(), nil
}

// containerPlan returns the plan of a container's schema, compiled once per
// schema text.
func (d *Decoder) containerPlan(text []byte) (*Plan, error) {
	if p, ok := d.byText[string(text)]; ok {
		return p, nil
	}
	w, err := Parse(string(text))
	if err != nil {
		return nil, err
	}
	p, err := d.Plan(w)
	if err != nil {
		return nil, err
	}
	if d.byText == nil || len(d.byText) >= maxCached {
		d.byText = map[string]*Plan{}
	}
	d.byText[string(text)] = p
	return p, nil
}

// appendContainer appends a container file holding the datums in data
// (count of them, written with schema text) to dst.
func appendContainer(dst []byte, schema string, sync *[16]byte, data []byte, count int) []byte {
	dst = append(dst, ocfMagic...)
	dst = appendLong(dst, 2)
	dst = appendBytes(dst, []byte(metaSchema))
	dst = appendBytes(dst, []byte(schema))
	dst = appendBytes(dst, []byte(metaCodec))
	dst = appendBytes(dst, []byte("null"))
	dst = appendLong(dst, 0)
	dst = append(dst, sync[:]...)
	dst = appendLong(dst, int64(count))
	dst = appendLong(dst, int64(len(data)))
	dst = append(dst, data...)
	return append(dst, sync[:]...)
}
