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
	"github.com/oauthlint/oauthlint/capture/tlsdecrypt"
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
	// A HAR saved as UTF-16 (PowerShell's '>' redirection): hand it to the
	// HAR reader, whose error says how to convert it.
	if utf16JSON(head) {
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

// utf16JSON reports whether head is a UTF-16 byte order mark followed by
// a JSON object (after any whitespace) in the same byte order.
func utf16JSON(head []byte) bool {
	var le bool
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		le = true
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
	default:
		return false
	}
	for i := 2; i+1 < len(head); i += 2 {
		c, zero := head[i], head[i+1]
		if !le {
			c, zero = head[i+1], head[i]
		}
		if zero != 0 {
			return false
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
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
	// ClientRun is set when the capture covers a client's whole run
	// (written by oauthlint capture -- CMD).
	ClientRun *capture.ClientRun
	// Undecrypted lists the TLS connections of a packet capture that
	// could not be decrypted (no keys, damaged records, …): they yield
	// no exchanges. Decrypted counts those that were read.
	Undecrypted []capture.Undecrypted
	Decrypted   int
	// PartlyRead lists the connections of a packet capture that lost
	// bytes, from the first hole to their end (pcap.Info.PartlyRead).
	PartlyRead []capture.Undecrypted
}

// Options tune reading.
type Options struct {
	MaxBody int64
	// MaxConnections caps the TCP connections a packet capture keeps
	// open (0: pcap.DefaultMaxOpenConnections).
	MaxConnections int
	// Stdin is read when the path is "-".
	Stdin io.Reader
	// Progress is called with bytes read so far, the total size (0 when
	// unknown) and the entries read.
	Progress func(read, total int64, entries int)
	// Keys are the TLS secrets for packet captures (see LoadKeyLogs);
	// HAR files ignore them.
	Keys *tlsdecrypt.KeyLog
	// Slim is called with each exchange of a packet capture as it is read,
	// before it is kept (see pcap.Options.Slim).
	Slim func(*capture.Exchange)
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
			info.ClientRun = hi.ClientRun
			for _, w := range hi.Warnings {
				info.Warnings = append(info.Warnings, w.String())
			}
		}
		return exs, info, err
	case PCAP, PCAPNG:
		po := pcap.Options{MaxBody: opts.MaxBody, Keys: opts.Keys, MaxOpenConnections: opts.MaxConnections, Slim: opts.Slim}
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
			info.Undecrypted = pi.Undecrypted
			info.PartlyRead = pi.PartlyRead
			info.Decrypted = pi.DecryptedConnections
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

// LoadKeyLogs reads the TLS key logs given with --keylog (each must
// exist and hold key log lines) and the file named by SSLKEYLOGFILE in
// the environment (env; skipped with a note when it does not exist yet).
// It returns the secrets, one note per file read, and the first error.
func LoadKeyLogs(paths []string, env string) (*tlsdecrypt.KeyLog, []string, error) {
	kl := tlsdecrypt.NewKeyLog()
	var notes []string
	seen := map[string]bool{}
	load := func(path, via string) error {
		if seen[path] {
			return nil
		}
		seen[path] = true
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return fmt.Errorf("%s is a directory; give the key log file (the file SSLKEYLOGFILE named)", path)
		}
		st, err := kl.Read(f, path)
		if err != nil {
			return err
		}
		notes = append(notes, via+st.String())
		return nil
	}
	for _, p := range paths {
		if err := load(p, "key log "); err != nil {
			return nil, notes, fmt.Errorf("--keylog %s: %w", p, err)
		}
	}
	if env != "" && !seen[env] {
		if _, err := os.Stat(env); err != nil {
			notes = append(notes, fmt.Sprintf("SSLKEYLOGFILE=%s: %v; not used", env, err))
		} else if err := load(env, "SSLKEYLOGFILE: "); err != nil {
			return nil, notes, fmt.Errorf("SSLKEYLOGFILE=%s: %w", env, err)
		}
	}
	return kl, notes, nil
}
