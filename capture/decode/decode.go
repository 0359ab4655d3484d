// Package decode undoes HTTP content codings (gzip, deflate, br, zstd) with
// a cap on the decoded size, so a decompression bomb costs at most the cap.
package decode

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// ErrTooLarge is returned (wrapped) when the decoded body exceeds the cap;
// the bytes decoded up to the cap are returned with it.
var ErrTooLarge = errors.New("decoded body exceeds the size cap")

// ErrUnsupported is returned for a coding this package does not know.
var ErrUnsupported = errors.New("unsupported content coding")

// Body decodes body according to a Content-Encoding header value (which may
// list several codings, applied in order) and returns at most max bytes.
// An empty or "identity" coding returns body unchanged (still capped).
func Body(contentEncoding string, body []byte, max int64) ([]byte, error) {
	codings := splitCodings(contentEncoding)
	out := body
	// Codings are listed in the order they were applied; undo in reverse.
	for i := len(codings) - 1; i >= 0; i-- {
		var err error
		out, err = one(codings[i], out, max)
		if err != nil {
			return out, fmt.Errorf("%s: %w", codings[i], err)
		}
	}
	if int64(len(out)) > max {
		return out[:max], ErrTooLarge
	}
	return out, nil
}

func splitCodings(h string) []string {
	var out []string
	for _, c := range strings.Split(h, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if c != "" && c != "identity" {
			out = append(out, c)
		}
	}
	return out
}

func one(coding string, body []byte, max int64) ([]byte, error) {
	var r io.Reader
	switch coding {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return body, err
		}
		defer zr.Close()
		r = zr
	case "deflate":
		// "deflate" is zlib-wrapped per RFC 9110, but some servers send raw
		// deflate; accept both.
		if zr, err := zlib.NewReader(bytes.NewReader(body)); err == nil {
			defer zr.Close()
			r = zr
		} else {
			fr := flate.NewReader(bytes.NewReader(body))
			defer fr.Close()
			r = fr
		}
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(body), zstd.WithDecoderMaxMemory(zstdMaxMemory), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return body, err
		}
		defer zr.Close()
		r = zr
	default:
		return body, ErrUnsupported
	}
	return readCapped(r, max, int64(len(body)))
}

// readCapped reads at most max bytes; hint (the encoded size) presizes the
// buffer: text compresses about 4:1, so starting there avoids most of the
// regrowing.
func readCapped(r io.Reader, max, hint int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(hint*4+512, max+1)))
	n, err := io.Copy(&buf, io.LimitReader(r, max+1))
	if err != nil {
		return buf.Bytes(), err
	}
	if n > max {
		return buf.Bytes()[:max], ErrTooLarge
	}
	return buf.Bytes(), nil
}

// LooksEncoded reports whether body plausibly still carries the coding
// (HAR exporters usually store the decoded body while keeping the header).
func LooksEncoded(coding string, body []byte) bool {
	codings := splitCodings(coding)
	if len(codings) == 0 || len(body) == 0 {
		return false
	}
	switch codings[len(codings)-1] {
	case "gzip", "x-gzip":
		return len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b
	case "zstd":
		return len(body) >= 4 && body[0] == 0x28 && body[1] == 0xb5 && body[2] == 0x2f && body[3] == 0xfd
	case "deflate":
		return len(body) >= 2 && body[0]&0x0f == 8 && (uint16(body[0])<<8|uint16(body[1]))%31 == 0
	case "br":
		// Brotli has no magic number: treat bodies that are not text as
		// encoded.
		return !isText(body)
	}
	return false
}

func isText(b []byte) bool {
	n := len(b)
	if n > 512 {
		n = 512
	}
	for _, c := range b[:n] {
		if c < 0x09 || (c > 0x0d && c < 0x20) || c == 0x7f {
			return false
		}
	}
	return true
}

// zstdMaxMemory bounds the decoder's window allocation independently of the
// output cap (a frame may declare a window far larger than its content).
const zstdMaxMemory = 128 << 20
