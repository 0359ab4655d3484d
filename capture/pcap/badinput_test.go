package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

func TestUnusableFiles(t *testing.T) {
	for name, data := range map[string]string{
		"empty":        "",
		"three bytes":  "\xd4\xc3\xb2",
		"bad magic":    "this is not a capture at all",
		"HAR":          `{"log":{"entries":[]}}`,
		"gzip":         "\x1f\x8b\x08\x00\x00\x00\x00\x00",
		"short pcap":   "\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00",
		"short pcapng": "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c",
		"bad version":  "\xd4\xc3\xb2\xa1\x09\x00\x04\x00" + strings.Repeat("\x00", 16),
	} {
		t.Run(name, func(t *testing.T) {
			exs, info, err := Read(strings.NewReader(data), "bad.pcap", Options{})
			var pe *Error
			if !errors.As(err, &pe) || exs != nil || info == nil {
				t.Fatalf("err %v (%T), %d exchanges", err, err, len(exs))
			}
			if !strings.HasPrefix(err.Error(), "pcap: bad.pcap: ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// validCapture is a small capture with two exchanges on one connection
// plus one on another.
func validCapture(t *testing.T, f pcapgen.Format) []byte {
	b := newCapFormat(t, f, pcapgen.LinkEthernet)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.exchange(get("v.test", "/1"), okText("one"))
	c.exchange(get("v.test", "/2"), okText("two"))
	c.close()
	d := b.conn("10.0.0.1:50001", "10.0.0.2:80").handshake()
	d.exchange(get("v.test", "/3"), okText("three"))
	d.close()
	return b.bytes()
}

func TestTruncatedFilesGivePartialResults(t *testing.T) {
	for _, f := range []pcapgen.Format{pcapgen.FormatPcap, pcapgen.FormatPcapng} {
		data := validCapture(t, f)
		full, _, err := Read(bytes.NewReader(data), "full", Options{})
		if err != nil || len(full) != 3 {
			t.Fatalf("%s: full capture: %v %d", f, err, len(full))
		}
		sawPartial := false
		for n := 0; n < len(data); n++ {
			exs, info, err := Read(bytes.NewReader(data[:n]), "cut", Options{})
			if err != nil {
				var pe *Error
				if !errors.As(err, &pe) || strings.Contains(err.Error(), "internal error") {
					t.Fatalf("%s cut at %d: %v", f, n, err)
				}
				continue
			}
			if len(exs) > 3 {
				t.Fatalf("%s cut at %d: %d exchanges", f, n, len(exs))
			}
			if len(exs) > 0 && len(exs) < 3 {
				sawPartial = true
			}
			// A cut inside a record is reported (a cut at a record boundary
			// is indistinguishable from a shorter capture).
			if info.Truncated && !hasWarning(info, "truncated capture") && !hasWarning(info, "corrupt") {
				t.Fatalf("%s cut at %d: truncated without a warning: %v", f, n, info.Warnings)
			}
		}
		if !sawPartial {
			t.Errorf("%s: no cut gave partial results", f)
		}
	}
}

func TestTruncatedWarningNamesFrame(t *testing.T) {
	data := validCapture(t, pcapgen.FormatPcap)
	exs, info, err := Read(bytes.NewReader(data[:len(data)-30]), "cut.pcap", Options{})
	if err != nil || !info.Truncated || len(exs) != 3 {
		t.Fatalf("%v %+v %d", err, info, len(exs))
	}
	if !hasWarning(info, "the file ends inside packet") {
		t.Errorf("warnings %v", info.Warnings)
	}
}

func TestCorruptPcapRecordLength(t *testing.T) {
	data := validCapture(t, pcapgen.FormatPcap)
	// Find the 6th record and give it an absurd captured length.
	p := 24
	for i := 0; i < 5; i++ {
		p += 16 + int(binary.LittleEndian.Uint32(data[p+8:]))
	}
	bad := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(bad[p+8:], 0xfffffff0)
	binary.LittleEndian.PutUint32(bad[p+12:], 0xfffffff0)
	exs, info, err := Read(bytes.NewReader(bad), "corrupt.pcap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Truncated || !hasWarning(info, "frame 6") {
		t.Errorf("info %+v", info)
	}
	// Frames 1-5 hold the first request, its response is lost.
	wantSummary(t, exs, "GET http://v.test/1 - [no-response]\n")
}

func TestCorruptPcapngBlockLength(t *testing.T) {
	data := validCapture(t, pcapgen.FormatPcapng)
	// Walk the blocks and corrupt the length of the 8th.
	for _, length := range []uint32{0xfffffff0, 4, 13} {
		p := 0
		for i := 0; i < 8; i++ {
			p += int(binary.LittleEndian.Uint32(data[p+4:]))
		}
		bad := append([]byte(nil), data...)
		binary.LittleEndian.PutUint32(bad[p+4:], length)
		exs, info, err := Read(bytes.NewReader(bad), "corrupt.pcapng", Options{})
		if err != nil {
			t.Fatalf("length %#x: %v", length, err)
		}
		if !info.Truncated || len(exs) == 0 || len(exs) > 3 {
			t.Errorf("length %#x: %d exchanges, info %+v", length, len(exs), info)
		}
	}
}

func TestRandomBytesAfterHeader(t *testing.T) {
	valid := validCapture(t, pcapgen.FormatPcap)
	junk := append(append([]byte(nil), valid[:24]...), bytes.Repeat([]byte{0x5a, 0xa5, 0x00, 0xff}, 4096)...)
	_, info, err := Read(bytes.NewReader(junk), "junk.pcap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Truncated {
		t.Errorf("junk records not reported: %+v", info)
	}
}

// FuzzRead: any input yields a result or an *Error, never a panic (the
// internal-error recovery would hide one, so it is checked for), only
// bounded work, and well-formed exchanges (checkExchange: among others,
// frames in capture order).
func FuzzRead(f *testing.F) {
	t := &testing.T{}
	f.Add(validCapture(t, pcapgen.FormatPcap))
	f.Add(validCapture(t, pcapgen.FormatPcapng))
	f.Add(validCapture(t, pcapgen.FormatPcapNano))
	b := newCapFormat(t, pcapgen.FormatPcap, pcapgen.LinkSLL2)
	c := b.conn("[fd00::1]:50000", "[fd00::2]:80").handshake()
	c.send(true, keepAliveRequests, 50)
	c.send(false, keepAliveResponses, 70)
	f.Add(b.bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		exs, info, err := Read(bytes.NewReader(data), "fuzz", Options{MaxBody: 1 << 16})
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
		if err != nil {
			return
		}
		for _, ex := range exs {
			checkExchange(t, ex)
		}
		for _, u := range info.Undecrypted {
			if f := u.Ref.Frames; len(f) != 2 || f[0] < 1 || f[1] < f[0] {
				t.Fatalf("undecrypted connection %s: frames %v", u.Server, f)
			}
		}
	})
}
