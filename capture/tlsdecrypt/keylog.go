// Package tlsdecrypt decrypts TLS 1.2 and 1.3 connections seen on the
// wire, given the session secrets an endpoint logged (an NSS key log, the
// SSLKEYLOGFILE format of RFC 9850, or the same text embedded in a pcapng
// Decryption Secrets Block).
//
// It is passive: it never takes part in a handshake and never verifies
// certificates or Finished messages. It frames the records of both
// directions (records split across or packed into TCP segments), parses
// the handshake (ClientHello, ServerHello, HelloRetryRequest,
// EncryptedExtensions, Finished, NewSessionTicket, KeyUpdate), derives the
// record keys from the logged secrets (key.go, written once and tested
// against RFC 8448) and opens each record (record.go). Anything it cannot
// do — no secrets for the connection, an authentication-tag failure, a
// malformed record, lost bytes — stops the affected direction with a
// Failure that says why; it never panics on any input.
package tlsdecrypt

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Secrets are the logged secrets of one TLS connection, found by its
// ClientHello random.
type Secrets struct {
	// Master is the TLS 1.2 (and earlier) master secret (CLIENT_RANDOM).
	Master []byte
	// TLS 1.3 traffic secrets (RFC 8446 §7.1).
	ClientEarly     []byte // CLIENT_EARLY_TRAFFIC_SECRET (0-RTT data)
	ClientHandshake []byte // CLIENT_HANDSHAKE_TRAFFIC_SECRET
	ServerHandshake []byte // SERVER_HANDSHAKE_TRAFFIC_SECRET
	ClientTraffic   []byte // CLIENT_TRAFFIC_SECRET_0
	ServerTraffic   []byte // SERVER_TRAFFIC_SECRET_0
}

// Labels of the NSS key log format (RFC 9850 §3.1) that carry record
// keys. The exporter and ECH labels are valid but decrypt nothing.
const (
	labelClientRandom    = "CLIENT_RANDOM"
	labelClientEarly     = "CLIENT_EARLY_TRAFFIC_SECRET"
	labelClientHandshake = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	labelServerHandshake = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	labelClientTraffic   = "CLIENT_TRAFFIC_SECRET_0"
	labelServerTraffic   = "SERVER_TRAFFIC_SECRET_0"
)

// knownOther are labels that are well formed but not needed to read
// records; they are counted, not reported as errors.
var knownOther = map[string]bool{
	"EARLY_EXPORTER_SECRET":        true,
	"EXPORTER_SECRET":              true,
	"EARLY_EXPORTER_MASTER_SECRET": true,
	"EXPORTER_MASTER_SECRET":       true,
	"ECH_SECRET":                   true,
	"ECH_CONFIG":                   true,
	// RSA <first 8 bytes of the encrypted premaster> <premaster>: written
	// for RSA key exchange by old NSS versions; every current library
	// also writes CLIENT_RANDOM for the same connection.
	"RSA": true,
}

// KeyLog holds secrets by client random. It is safe for concurrent use.
type KeyLog struct {
	mu   sync.RWMutex
	m    map[[32]byte]*Secrets
	gen  uint64
	srcs []string
}

// NewKeyLog returns an empty key log.
func NewKeyLog() *KeyLog { return &KeyLog{m: map[[32]byte]*Secrets{}} }

// LoadStats describe one key log file or block.
type LoadStats struct {
	Name  string
	Lines int
	// Secrets is the number of well-formed lines with a label that
	// carries record keys; Randoms the connections (client randoms) they
	// belong to.
	Secrets int
	Randoms int
	// Other counts well-formed lines with labels that do not decrypt
	// records (exporter, ECH, RSA).
	Other int
	// Bad counts malformed lines; FirstBad describes the first.
	Bad      int
	FirstBad string
}

func (s LoadStats) String() string {
	msg := fmt.Sprintf("%s: %d secrets for %d TLS connections", s.Name, s.Secrets, s.Randoms)
	if s.Bad > 0 {
		msg += fmt.Sprintf("; %d malformed line(s) skipped, the first: %s", s.Bad, s.FirstBad)
	}
	return msg
}

// ErrNotKeyLog is returned when a file holds no key log line at all.
var ErrNotKeyLog = errors.New("not an NSS key log (SSLKEYLOGFILE format): no line of the form 'LABEL <64 hex digits of client random> <hex secret>'")

// maxLine bounds one key log line: the longest legal line (an ECH_CONFIG)
// is a few kilobytes.
const maxLine = 64 << 10

// Read adds the secrets in r (an NSS key log; name is used in messages).
// Malformed lines are skipped and counted; the error is non-nil only when
// r cannot be read or holds no key log line at all.
func (k *KeyLog) Read(r io.Reader, name string) (LoadStats, error) {
	st := LoadStats{Name: name}
	br := bufio.NewReaderSize(r, 64<<10)
	randoms := map[[32]byte]bool{}
	add := map[[32]byte]*Secrets{}
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// An overlong line: skip to its end.
			st.Lines++
			st.bad(fmt.Sprintf("line %d is longer than %d bytes", st.Lines, maxLine))
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return st, fmt.Errorf("%s: %w", name, err)
			}
			if err != nil {
				break
			}
			continue
		}
		if len(line) > 0 {
			st.Lines++
			k.parseLine(line, &st, add, randoms)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return st, fmt.Errorf("%s: line %d: %w", name, st.Lines+1, err)
			}
			break
		}
	}
	st.Randoms = len(randoms)
	k.merge(add, name)
	if st.Secrets == 0 && st.Other == 0 && st.Bad > 0 {
		return st, fmt.Errorf("%s: %w (first problem: %s)", name, ErrNotKeyLog, st.FirstBad)
	}
	return st, nil
}

// ReadBytes adds the secrets of an in-memory key log (a pcapng
// Decryption Secrets Block).
func (k *KeyLog) ReadBytes(b []byte, name string) (LoadStats, error) {
	return k.Read(bytes.NewReader(b), name)
}

func (s *LoadStats) bad(msg string) {
	s.Bad++
	if s.FirstBad == "" {
		s.FirstBad = msg
	}
}

func (k *KeyLog) parseLine(line []byte, st *LoadStats, add map[[32]byte]*Secrets, randoms map[[32]byte]bool) {
	line = bytes.TrimRight(line, "\r\n")
	if st.Lines == 1 {
		line = bytes.TrimPrefix(line, []byte{0xEF, 0xBB, 0xBF})
	}
	t := bytes.TrimSpace(line)
	if len(t) == 0 || t[0] == '#' {
		return
	}
	f := bytes.Fields(t)
	if len(f) != 3 {
		st.bad(fmt.Sprintf("line %d has %d fields, want 3 (LABEL CLIENT_RANDOM SECRET): %q", st.Lines, len(f), clip(t, 60)))
		return
	}
	label := string(f[0])
	if knownOther[label] {
		st.Other++
		return
	}
	var dst func(*Secrets) *[]byte
	wantLen := []int{32, 48}
	switch label {
	case labelClientRandom:
		dst = func(s *Secrets) *[]byte { return &s.Master }
		wantLen = []int{48}
	case labelClientEarly:
		dst = func(s *Secrets) *[]byte { return &s.ClientEarly }
	case labelClientHandshake:
		dst = func(s *Secrets) *[]byte { return &s.ClientHandshake }
	case labelServerHandshake:
		dst = func(s *Secrets) *[]byte { return &s.ServerHandshake }
	case labelClientTraffic:
		dst = func(s *Secrets) *[]byte { return &s.ClientTraffic }
	case labelServerTraffic:
		dst = func(s *Secrets) *[]byte { return &s.ServerTraffic }
	default:
		if isLabel(label) && len(f[1]) == 64 && isHex(f[1]) {
			// A label from a later revision of the format: not an error.
			st.Other++
			return
		}
		st.bad(fmt.Sprintf("line %d: unknown label %q", st.Lines, clip(f[0], 40)))
		return
	}
	var cr [32]byte
	if len(f[1]) != 64 {
		st.bad(fmt.Sprintf("line %d: the client random is %d hex digits, want 64", st.Lines, len(f[1])))
		return
	}
	if _, err := hex.Decode(cr[:], f[1]); err != nil {
		st.bad(fmt.Sprintf("line %d: the client random is not hex: %v", st.Lines, err))
		return
	}
	secret := make([]byte, hex.DecodedLen(len(f[2])))
	if _, err := hex.Decode(secret, f[2]); err != nil || len(f[2])%2 != 0 {
		st.bad(fmt.Sprintf("line %d: the secret is not hex", st.Lines))
		return
	}
	ok := false
	for _, n := range wantLen {
		ok = ok || len(secret) == n
	}
	if !ok {
		st.bad(fmt.Sprintf("line %d: %s secret is %d bytes, want %s", st.Lines, label, len(secret), lens(wantLen)))
		return
	}
	s := add[cr]
	if s == nil {
		s = &Secrets{}
		add[cr] = s
	}
	*dst(s) = secret
	st.Secrets++
	randoms[cr] = true
}

func isLabel(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func lens(ns []int) string {
	var s []string
	for _, n := range ns {
		s = append(s, fmt.Sprint(n))
	}
	return strings.Join(s, " or ")
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(bytes.ToValidUTF8(b[:n], []byte("?"))) + "…"
	}
	return string(bytes.ToValidUTF8(b, []byte("?")))
}

// merge adds parsed secrets; a later line for the same secret replaces
// the earlier one (a key log is appended to as connections are made).
func (k *KeyLog) merge(add map[[32]byte]*Secrets, name string) {
	if len(add) == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for cr, s := range add {
		old := k.m[cr]
		if old == nil {
			k.m[cr] = s
			continue
		}
		n := *old
		for _, p := range []struct {
			dst *[]byte
			src []byte
		}{
			{&n.Master, s.Master}, {&n.ClientEarly, s.ClientEarly}, {&n.ClientHandshake, s.ClientHandshake},
			{&n.ServerHandshake, s.ServerHandshake}, {&n.ClientTraffic, s.ClientTraffic}, {&n.ServerTraffic, s.ServerTraffic},
		} {
			if p.src != nil {
				*p.dst = p.src
			}
		}
		k.m[cr] = &n
	}
	k.gen++
	k.srcs = append(k.srcs, name)
}

// Lookup returns the secrets logged for a client random, or nil.
func (k *KeyLog) Lookup(clientRandom []byte) *Secrets {
	if k == nil || len(clientRandom) != 32 {
		return nil
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.m[[32]byte(clientRandom)]
}

// Len is the number of connections (client randoms) with secrets.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.m)
}

// Generation changes whenever secrets are added, so that connections
// waiting for keys know when to look again.
func (k *KeyLog) Generation() uint64 {
	if k == nil {
		return 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.gen
}

// Sources names the files and blocks the secrets came from, in order.
func (k *KeyLog) Sources() []string {
	if k == nil {
		return nil
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return append([]string(nil), k.srcs...)
}

// Keys looks secrets up in several key logs in order (the --keylog files,
// then the secrets embedded in the capture itself).
type Keys []*KeyLog

// Lookup returns the first secrets found for a client random.
func (ks Keys) Lookup(clientRandom []byte) *Secrets {
	for _, k := range ks {
		if s := k.Lookup(clientRandom); s != nil {
			return s
		}
	}
	return nil
}

// Generation sums the generations of the logs.
func (ks Keys) Generation() uint64 {
	var g uint64
	for _, k := range ks {
		g += k.Generation()
	}
	return g
}

// Len is the number of client randoms over all logs.
func (ks Keys) Len() int {
	n := 0
	for _, k := range ks {
		n += k.Len()
	}
	return n
}
