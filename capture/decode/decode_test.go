package decode

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

func compress(t *testing.T, coding string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch coding {
	case "gzip":
		w := gzip.NewWriter(&buf)
		w.Write(data)
		w.Close()
	case "deflate":
		w := zlib.NewWriter(&buf)
		w.Write(data)
		w.Close()
	case "br":
		w := brotli.NewWriter(&buf)
		w.Write(data)
		w.Close()
	case "zstd":
		w, _ := zstd.NewWriter(&buf)
		w.Write(data)
		w.Close()
	}
	return buf.Bytes()
}

func TestBodyRoundTrip(t *testing.T) {
	data := []byte(`{"access_token":"x","token_type":"Bearer"}`)
	for _, c := range []string{"gzip", "deflate", "br", "zstd"} {
		enc := compress(t, c, data)
		if !LooksEncoded(c, enc) {
			t.Errorf("%s: LooksEncoded = false on encoded body", c)
		}
		if LooksEncoded(c, data) {
			t.Errorf("%s: LooksEncoded = true on plain JSON", c)
		}
		got, err := Body(c, enc, 1<<20)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: got %q, %v", c, got, err)
		}
	}
}

func TestBodyCap(t *testing.T) {
	bomb := bytes.Repeat([]byte("A"), 10<<20)
	for _, c := range []string{"gzip", "deflate", "br", "zstd"} {
		enc := compress(t, c, bomb)
		got, err := Body(c, enc, 1<<16)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err = %v, want ErrTooLarge", c, err)
		}
		if len(got) != 1<<16 {
			t.Errorf("%s: len = %d, want cap", c, len(got))
		}
	}
}

func TestBodyErrors(t *testing.T) {
	if _, err := Body("gzip", []byte("not gzip"), 100); err == nil {
		t.Error("corrupt gzip: no error")
	}
	if _, err := Body("compress", []byte("x"), 100); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown coding: %v", err)
	}
	got, err := Body("identity", []byte("abc"), 100)
	if err != nil || string(got) != "abc" {
		t.Errorf("identity: %q %v", got, err)
	}
	// Several codings are undone in reverse order.
	data := []byte("hello")
	both := compress(t, "gzip", compress(t, "br", data))
	got, err = Body("br, gzip", both, 100)
	if err != nil || string(got) != "hello" {
		t.Errorf("br, gzip: %q %v", got, err)
	}
}
