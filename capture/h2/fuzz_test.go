package h2

import (
	"bytes"
	"encoding/binary"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// FuzzConn feeds arbitrary bytes as the two directions of an HTTP/2
// connection: frames, header blocks and streams are read without
// panicking, and every emitted stream has a request.
func FuzzConn(f *testing.F) {
	var cl, sv bytes.Buffer
	cl.WriteString(ClientPreface)
	cf, sf := http2.NewFramer(&cl, nil), http2.NewFramer(&sv, nil)
	var eb bytes.Buffer
	enc := hpack.NewEncoder(&eb)
	for _, kv := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/x"}} {
		enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	cf.WriteSettings()
	cf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: eb.Bytes()[:3]})
	cf.WriteContinuation(1, true, eb.Bytes()[3:])
	cf.WriteDataPadded(1, true, []byte("body"), []byte{0, 0})
	eb.Reset()
	enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	sf.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: 100})
	sf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: eb.Bytes(), EndHeaders: true})
	sf.WriteData(1, false, []byte("resp"))
	sf.WriteRSTStream(1, http2.ErrCodeCancel)
	seed := []byte{}
	for _, c := range []struct {
		client bool
		b      []byte
	}{{true, cl.Bytes()}, {false, sv.Bytes()}} {
		dir := byte(0)
		if !c.client {
			dir = 1
		}
		seed = append(seed, dir)
		seed = binary.BigEndian.AppendUint16(seed, uint16(len(c.b)))
		seed = append(seed, c.b...)
	}
	f.Add(seed)
	f.Add([]byte{0, 0, 24, 'P', 'R', 'I'})
	f.Fuzz(func(t *testing.T, b []byte) {
		c := NewConn(func(s *Stream) {
			if s.Request == nil {
				t.Fatal("stream without request")
			}
		}, Options{MaxBody: 1 << 10})
		for len(b) >= 3 {
			client, gap := b[0]&1 == 0, b[0]&2 != 0
			n := int(binary.BigEndian.Uint16(b[1:3]))
			b = b[3:]
			n = min(n, len(b))
			if gap && n == 0 {
				c.Gap(client, 5, Pos{})
			}
			c.Data(client, b[:n], Pos{}, Pos{})
			b = b[n:]
		}
		c.End(true, Pos{})
		c.End(false, Pos{})
		c.Finish("end")
	})
}
