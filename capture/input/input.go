// Package input opens capture files of any supported format: it sniffs
// the content (not the file name) and hands the file to the right reader.
package input

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/capture/pcap"
)

// Format names an input format.
type Format string

const (
	HAR     Format = "har"
	PCAP    Format = "pcap"
	PCAPNG  Format = "pcapng"
	Unknown Format = "unknown"
)

// Sniff recognises a format from the first bytes of a file.
func Sniff(head []byte) Format {
	b := bytes.TrimPrefix(head, []byte{0xEF, 0xBB, 0xBF})
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) > 0 && b[0] == '{' {
		return HAR
	}
	if len(head) >= 4 {
		switch {
		case bytes.Equal(head[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}):
			return PCAPNG
		case bytes.Equal(head[:4], []byte{0xd4, 0xc3, 0xb2, 0xa1}), bytes.Equal(head[:4], []byte{0xa1, 0xb2, 0xc3, 0xd4}),
			bytes.Equal(head[:4], []byte{0x4d, 0x3c, 0xb2, 0xa1}), bytes.Equal(head[:4], []byte{0xa1, 0xb2, 0x3c, 0x4d}):
			return PCAP
		}
	}
	return Unknown
}

// Info describes what was read from one input.
type Info struct {
	File      string
	Format    Format
	Creator   string
	Entries   int
	Exchanges int
	Truncated bool
	Sanitized bool
	Warnings  []string
	// Comment is the capture's own comment (HAR log.comment).
	Comment string
}

// Options tune reading.
type Options struct {
	MaxBody int64
	// Stdin is read when the path is "-".
	Stdin io.Reader
	// Progress is called with bytes read so far, the total size (0 when
	// unknown) and the entries read.
	Progress func(read, total int64, entries int)
}

// Read reads one capture file ("-" for standard input).
func Read(path string, opts Options) ([]*capture.Exchange, Info, error) {
	info := Info{File: path}
	var r io.Reader
	var total int64
	if path == "-" {
		if opts.Stdin == nil {
			return nil, info, fmt.Errorf("%s: no standard input", path)
		}
		r = opts.Stdin
		info.File = "(stdin)"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, info, fmt.Errorf("%w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			if st.IsDir() {
				return nil, info, fmt.Errorf("%s is a directory; give capture files (HAR)", path)
			}
			total = st.Size()
		}
		r = f
	}
	br := bufio.NewReaderSize(r, 1<<20)
	head, _ := br.Peek(512)
	info.Format = Sniff(head)
	switch info.Format {
	case HAR:
		ho := har.Options{MaxBody: opts.MaxBody}
		if opts.Progress != nil {
			ho.Progress = func(entries int, off int64) { opts.Progress(off, total, entries) }
		}
		exs, hi, err := har.Read(br, info.File, ho)
		if hi != nil {
			info.Creator = creator(hi)
			info.Entries = hi.Entries
			info.Exchanges = hi.Exchanges
			info.Truncated = hi.Truncated
			info.Sanitized = hi.Sanitized
			info.Comment = hi.Comment
			for _, w := range hi.Warnings {
				info.Warnings = append(info.Warnings, w.String())
			}
		}
		return exs, info, err
	case PCAP, PCAPNG:
		po := pcap.Options{MaxBody: opts.MaxBody}
		if opts.Progress != nil {
			po.Progress = func(read int64, exchanges int) { opts.Progress(read, total, exchanges) }
		}
		exs, pi, err := pcap.Read(br, info.File, po)
		if pi != nil {
			info.Creator = pi.Application
			// Entries counts the HTTP requests found, so that a capture
			// without any (only TLS, say) is read as empty, not as
			// unreadable.
			info.Entries = pi.Requests
			info.Exchanges = pi.Exchanges
			info.Truncated = pi.Truncated
			for _, w := range pi.Warnings {
				info.Warnings = append(info.Warnings, w.String())
			}
		}
		return exs, info, err
	default:
		if len(head) == 0 {
			return nil, info, fmt.Errorf("%s: the file is empty; expected a HAR capture", info.File)
		}
		return nil, info, fmt.Errorf("%s: not a capture oauthlint can read (expected a HAR file, which starts with '{'); the file starts with %q", info.File, printable(head, 16))
	}
}

func creator(hi *har.Info) string {
	s := hi.Creator.Name
	if hi.Creator.Version != "" {
		s += " " + hi.Creator.Version
	}
	return s
}

func printable(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(bytes.ToValidUTF8(b, []byte("?")))
}
