package pcap

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

func clientHello(sni string) []byte {
	return pcapgen.ClientHello(sni, "http/1.1", rand.New(rand.NewPCG(1, 2)))
}

func TestParseClientHello(t *testing.T) {
	ch := clientHello("auth.example.com")
	sni, alpn, err := parseClientHello(ch)
	if err != nil || sni != "auth.example.com" || alpn != "http/1.1" {
		t.Fatalf("sni %q alpn %q err %v", sni, alpn, err)
	}
	for i := 0; i < len(ch); i++ {
		if _, _, err := parseClientHello(ch[:i]); err != errNeedMore {
			t.Fatalf("prefix of %d bytes: %v, want errNeedMore", i, err)
		}
	}
	// The same hello split over two records.
	hs := ch[5:]
	split := append([]byte{0x16, 3, 1, 0, 40}, hs[:40]...)
	rest := hs[40:]
	split = append(split, 0x16, 3, 1, byte(len(rest)>>8), byte(len(rest)))
	split = append(split, rest...)
	if sni, _, err := parseClientHello(split); err != nil || sni != "auth.example.com" {
		t.Errorf("two records: %q %v", sni, err)
	}
	if _, _, err := parseClientHello([]byte("GET / HTTP/1.1\r\n")); err == nil {
		t.Errorf("HTTP parsed as a ClientHello")
	}
	// Fewer than a record header's bytes: more bytes complete a handshake
	// record only when the first byte says handshake (FuzzClientHello
	// found "0" answered with errNeedMore).
	for _, b := range []string{"0", "G", "\x17\x03", "\x15\x03\x03\x00"} {
		if _, _, err := parseClientHello([]byte(b)); err == nil || err == errNeedMore {
			t.Errorf("%q: %v, want an error that is not errNeedMore", b, err)
		}
	}
	// A hello cut by a non-handshake record cannot be completed.
	cut := append(append([]byte{}, split[:5+40]...), 0x17, 3, 3, 0, 1, 0)
	if _, _, err := parseClientHello(cut); err == nil || err == errNeedMore {
		t.Errorf("hello cut by an application data record: %v", err)
	}
}

func TestTLSConnectionWarnedOnce(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:443").handshake()
	c.send(true, string(clientHello("auth.example.com")), 30) // split over segments
	c.send(false, "\x16\x03\x03\x00\x05hello\x17\x03\x03\x00\x03abc", 0)
	c.send(true, "\x17\x03\x03\x00\x03xyz", 0)
	c.close()
	exs, info := b.read(Options{})
	if len(exs) != 0 {
		t.Fatalf("TLS parsed as HTTP: %s", summary(exs))
	}
	var n int
	for _, w := range info.Warnings {
		if strings.Contains(w.Msg, "encrypted connection") {
			n++
			want := "encrypted connection (ALPN http/1.1) to auth.example.com:443 at 2026-03-02T10:00:00.000400Z (frames 4-12) not decrypted: no TLS keys were given (--keylog FILE)"
			if w.Msg != want || w.Frame != 4 || w.Conn != "10.0.0.1:50000 -> 10.0.0.2:443" {
				t.Errorf("warning %+v\nwant %q at frame 4", w, want)
			}
		}
	}
	if n != 1 || info.TLSConnections != 1 {
		t.Errorf("%d TLS warnings, %d TLS connections; warnings %v", n, info.TLSConnections, info.Warnings)
	}
}

func TestTLSMidStreamAndNameResolution(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:443")
	c.send(false, "\x17\x03\x03\x00\x05abcde", 0)
	c.send(true, "\x17\x03\x03\x00\x02zz", 0)
	exs, info := b.read(Options{})
	if len(exs) != 0 || !hasWarning(info, "handshake was not captured") || !hasWarning(info, "10.0.0.2:443") {
		t.Errorf("%s %v", summary(exs), info.Warnings)
	}
}

func TestTLSServerSpeaksFirstIsNotHTTP(t *testing.T) {
	// A TLS ServerHello seen first (client bytes lost) still says TLS.
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:8443").handshake()
	c.send(false, "\x16\x03\x03\x00\x04\x02\x00\x00\x00", 0)
	exs, info := b.read(Options{})
	if len(exs) != 0 || info.TLSConnections != 1 {
		t.Errorf("%s %+v", summary(exs), info)
	}
}

func TestManyTLSConnectionsSummarised(t *testing.T) {
	b := newCap(t)
	for i := 0; i < maxTLSWarnings+5; i++ {
		c := b.conn("10.0.0.1:"+itoa(40000+i), "10.0.0.2:443").handshake()
		c.send(true, string(clientHello("h"+itoa(i)+".example.com")), 0)
		c.close()
	}
	_, info := b.read(Options{})
	var single, summary int
	for _, w := range info.Warnings {
		switch {
		case strings.HasPrefix(w.Msg, "encrypted connection"):
			single++
		case strings.HasPrefix(w.Msg, "5 more encrypted connections (to h20.example.com, h21.example.com, h22.example.com, h23.example.com, h24.example.com) were not decrypted"):
			summary++
		}
	}
	if single != maxTLSWarnings || summary != 1 || info.TLSConnections != maxTLSWarnings+5 {
		t.Errorf("%d single, %d summary warnings: %v", single, summary, info.Warnings)
	}
}

// TestTLSReorderedFrames: the frames of an undecrypted connection run
// from its lowest to its highest packet even when the end of its TLS
// bytes was captured before their start (here the ClientHello's second
// half in frame 4, its first half in frame 5, the server's record split
// the same way in frames 7 and 8).
func TestTLSReorderedFrames(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:443").handshake() // 1-3
	hello := string(clientHello("auth.example.com"))
	b.write(c.seg(true, 40, hello[40:])) // 4
	b.write(c.seg(true, 0, hello[:40]))  // 5
	c.advance(true, len(hello))
	c.ack(false) // 6
	rec := "\x16\x03\x03\x00\x05hello\x17\x03\x03\x00\x03abc"
	b.write(c.seg(false, 7, rec[7:])) // 7
	b.write(c.seg(false, 0, rec[:7])) // 8
	c.advance(false, len(rec))
	c.ack(true) // 9
	_, info := b.read(Options{})
	if len(info.Undecrypted) != 1 {
		t.Fatalf("undecrypted %+v, warnings %v", info.Undecrypted, info.Warnings)
	}
	u := info.Undecrypted[0]
	if f := u.Ref.Frames; len(f) != 2 || f[0] != 4 || f[1] != 8 {
		t.Errorf("frames %v, want [4 8]", f)
	}
	if !u.Start.Equal(t0.Add(400*time.Microsecond)) || !u.End.Equal(t0.Add(800*time.Microsecond)) {
		t.Errorf("start %s end %s, want the times of frames 4 and 8", u.Start, u.End)
	}
	if !hasWarning(info, "(frames 4-8) not decrypted") {
		t.Errorf("warnings %v", info.Warnings)
	}
}
