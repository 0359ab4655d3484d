// Package decode undoes HTTP content codings (gzip, deflate, br, zstd) with
// a cap on the decoded size, so a decompression bomb costs at most the cap.
package decode

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

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

// textSize guesses the decoded size of a compressed body: text compresses
// about 4:1.
func textSize(body []byte) int64 { return int64(len(body)) * 4 }

// gzipSize is the decoded size a gzip member records in its trailer
// (ISIZE, RFC 1952 §2.3.1: the size modulo 2^32), when plausible for
// deflate (at most about 1032:1), else textSize.
func gzipSize(body []byte) int64 {
	if n := len(body); n >= 18 {
		isize := int64(binary.LittleEndian.Uint32(body[n-4:]))
		if isize > 0 && isize <= int64(n)*1032 {
			return isize
		}
	}
	return textSize(body)
}

// zstdSize is the frame's content size when its header states it, else
// textSize.
func zstdSize(body []byte) int64 {
	var h zstd.Header
	if err := h.Decode(body); err == nil && h.HasFCS && h.FrameContentSize > 0 && h.FrameContentSize < 1<<40 {
		return int64(h.FrameContentSize)
	}
	return textSize(body)
}

// Decoders are pooled: each one carries a window (32 KiB for flate, up to
// megabytes for brotli and zstd) that a capture with thousands of
// compressed bodies would otherwise allocate and clear for every body.
var (
	gzipPool  sync.Pool // *gzip.Reader
	flatePool sync.Pool // io.ReadCloser implementing flate.Resetter
	zlibPool  sync.Pool // io.ReadCloser implementing zlib.Resetter
	brPool    sync.Pool // *brotli.Reader
	zstdPool  sync.Pool // *zstd.Decoder
)

func one(coding string, body []byte, max int64) ([]byte, error) {
	src := bytes.NewReader(body)
	switch coding {
	case "gzip", "x-gzip":
		zr, _ := gzipPool.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(src)
		} else {
			err = zr.Reset(src)
		}
		if err != nil {
			return body, err
		}
		out, err := readCapped(zr, max, gzipSize(body))
		if zr.Close() == nil {
			gzipPool.Put(zr)
		}
		return out, err
	case "deflate":
		// "deflate" is zlib-wrapped per RFC 9110, but some servers send raw
		// deflate; accept both.
		zr, _ := zlibPool.Get().(io.ReadCloser)
		var err error
		if zr == nil {
			zr, err = zlib.NewReader(src)
		} else {
			err = zr.(zlib.Resetter).Reset(src, nil)
		}
		if err == nil {
			out, err := readCapped(zr, max, textSize(body))
			zlibPool.Put(zr)
			return out, err
		}
		if zr != nil {
			zlibPool.Put(zr)
		}
		src.Reset(body)
		fr, _ := flatePool.Get().(io.ReadCloser)
		if fr == nil {
			fr = flate.NewReader(src)
		} else if err := fr.(flate.Resetter).Reset(src, nil); err != nil {
			return body, err
		}
		out, err := readCapped(fr, max, textSize(body))
		flatePool.Put(fr)
		return out, err
	case "br":
		br, _ := brPool.Get().(*brotli.Reader)
		if br == nil {
			br = brotli.NewReader(src)
		} else if err := br.Reset(src); err != nil {
			return body, err
		}
		out, err := readCapped(br, max, textSize(body))
		brPool.Put(br)
		return out, err
	case "zstd":
		zr, _ := zstdPool.Get().(*zstd.Decoder)
		var err error
		if zr == nil {
			zr, err = zstd.NewReader(src, zstd.WithDecoderMaxMemory(zstdMaxMemory), zstd.WithDecoderConcurrency(1))
		} else {
			err = zr.Reset(src)
		}
		if err != nil {
			return body, err
		}
		out, err := readCapped(zr, max, zstdSize(body))
		// Reset(nil) lets the decoder drop its reference to the body.
		if zr.Reset(nil) == nil {
			zstdPool.Put(zr)
		}
		return out, err
	default:
		return body, ErrUnsupported
	}
}

// readCapped reads at most max bytes; hint (the expected decoded size,
// textSize, gzipSize, zstdSize) presizes the buffer so that it rarely
// grows.
func readCapped(r io.Reader, max, hint int64) ([]byte, error) {
	var buf bytes.Buffer
	// At most 1 MiB up front: the hint may come from the (untrusted) body.
	buf.Grow(int(min(hint+512, max+1, 1<<20)))
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
