package decode

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// codingNames are the Content-Encoding values FuzzBody picks from: every
// supported coding, aliases, stacks, unknown and empty ones.
var codingNames = []string{
	"gzip", "x-gzip", "deflate", "br", "zstd", "identity", "",
	"gzip, gzip", "br, gzip", "deflate,zstd", "GZIP ", "compress", "gzip, compress", " , ,",
}

// FuzzBody feeds arbitrary bytes to every decoder. Whatever the input,
// Body must not panic, must never return more than max bytes without an
// error, must return exactly max bytes with ErrTooLarge, and must not
// allocate more than a small multiple of max (checked indirectly: max is
// small, so a decoder that ignored it would return more).
//
// Seeds: testdata/fuzz/FuzzBody plus a valid stream of each coding.
// Run: go test ./capture/decode -run '^$' -fuzz '^FuzzBody$' -fuzztime 1m
func FuzzBody(f *testing.F) {
	plain := []byte(`{"access_token":"at","token_type":"Bearer","expires_in":3600}`)
	for i, c := range []string{"gzip", "deflate", "br", "zstd"} {
		f.Add(uint8(i), compressed(f, c, plain), uint16(1024))
		// A small bomb: 64 KiB of one byte, decoded under a 1 KiB cap.
		f.Add(uint8(i), compressed(f, c, bytes.Repeat([]byte("A"), 64<<10)), uint16(1024))
	}
	f.Add(uint8(7), compressed(f, "gzip", compressed(f, "gzip", plain)), uint16(512))
	f.Add(uint8(0), []byte{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff}, uint16(10))
	f.Add(uint8(4), []byte{0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58}, uint16(10))
	f.Fuzz(func(t *testing.T, which uint8, body []byte, max16 uint16) {
		coding := codingNames[int(which)%len(codingNames)]
		max := int64(max16%4096) + 1
		in := append([]byte(nil), body...)
		out, err := Body(coding, body, max)
		if !bytes.Equal(in, body) {
			t.Fatal("Body modified its input")
		}
		switch {
		case err == nil:
			if int64(len(out)) > max {
				t.Fatalf("%q: %d bytes returned without an error, cap %d", coding, len(out), max)
			}
		case errors.Is(err, ErrTooLarge):
			if int64(len(out)) != max {
				t.Fatalf("%q: ErrTooLarge with %d bytes, cap %d", coding, len(out), max)
			}
		default:
			// A failed decode returns what it has; callers record a gap
			// and keep the original body, so only the message matters.
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
		}
		// LooksEncoded must accept anything.
		_ = LooksEncoded(coding, body)
	})
}

// FuzzRoundTrip: whatever a real encoder produces, Body decodes back to
// the same bytes (within the cap).
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(0), []byte(`{"a":1}`))
	f.Add(uint8(2), []byte("grant_type=authorization_code&code=abc"))
	f.Add(uint8(3), bytes.Repeat([]byte{0, 1, 2, 3}, 300))
	f.Fuzz(func(t *testing.T, which uint8, plain []byte) {
		c := []string{"gzip", "deflate", "br", "zstd"}[int(which)%4]
		enc := compressed(t, c, plain)
		if !LooksEncoded(c, enc) && c != "br" {
			t.Fatalf("%s: LooksEncoded is false on an encoded body", c)
		}
		out, err := Body(c, enc, int64(len(plain))+1)
		if err != nil || !bytes.Equal(out, plain) {
			t.Fatalf("%s: round trip gave %d bytes, %v (want %d bytes)", c, len(out), err, len(plain))
		}
	})
}

// compressed encodes data with one coding (the package tests' compress
// takes a *testing.T; fuzz seeds are added on a *testing.F).
func compressed(tb testing.TB, coding string, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "br":
		w = brotli.NewWriter(&buf)
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			tb.Fatal(err)
		}
		w = zw
	default:
		tb.Fatalf("no encoder for %q", coding)
	}
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
