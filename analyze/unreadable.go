package analyze

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/oauthlint/oauthlint/capture"
)

// Unreadable is traffic the capture saw but could not read, close enough
// to a flow (same host, overlapping time) to hold some of its messages: a
// TLS connection that was not decrypted, or a connection that lost bytes
// (after a hole the reader cannot frame what follows, so later requests
// on it are not in the exchanges). A message that may be inside is not
// proof of absence: rules that would conclude "never sent" or "sent out
// of order" from the flow answer not-available instead (see
// Flow.PossiblyMissingLegs).
type Unreadable struct {
	// Host is the server's name (TLS server name, tunnel target, or the
	// host of the exchange where the loss showed); Server its "ip:port"
	// when known.
	Host   string `json:"host,omitempty"`
	Server string `json:"server,omitempty"`
	// Start and End bound the connection (or, for a loss seen in an
	// exchange, that exchange).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Kind is the reader's short reason ("no-keys", "auth-failed", …) or
	// the exchange gap ("bytes-missing", "undecrypted").
	Kind string `json:"kind"`
	// Reason says where the flow's messages may be and why they could not
	// be read: "may be in the encrypted connection to as.example.com:443
	// at T (frames 4-37), not decrypted: …".
	Reason string      `json:"reason"`
	Ref    capture.Ref `json:"ref"`
	// Exchange is the exchange whose gap showed the loss (0 when the
	// connection yielded no exchange).
	Exchange int `json:"exchange,omitempty"`
	// Legs are the kinds of message of the flow it may hold, by the role
	// its host plays in the flow (authorization server, resource, redirect
	// URI).
	Legs []Kind `json:"legs"`
}

// UnreadableMargin widens a flow's time span when looking for unreadable
// traffic that may hold its messages: a client sends the authorization
// request right after registering, and a flow whose last captured message
// is the registration ends before it.
const UnreadableMargin = 2 * time.Minute

// Leg kinds by the role of the host that receives them.
var (
	asLegs       = []Kind{KindASMetadata, KindRegistration, KindAuthorize, KindToken, KindRefresh, KindRevocation, KindIntrospection, KindJWKS, KindUserinfo, KindDeviceAuthorization, KindPreflight}
	rsLegs       = []Kind{KindChallenge, KindPRM, KindResource, KindPreflight}
	redirectLegs = []Kind{KindCallback}
	// possibleLegs are the legs listed as possibly missing when a flow
	// lacks them (the others — refreshes, auxiliary calls — are only
	// treated as possibly incomplete lists).
	possibleLegs = map[Kind]bool{KindChallenge: true, KindPRM: true, KindASMetadata: true, KindRegistration: true,
		KindAuthorize: true, KindCallback: true, KindToken: true, KindResource: true}
)

// unreadableRecords gathers the unreadable traffic of the capture: the
// connections the readers could not decrypt (opts.Undecrypted) and the
// connections where an exchange shows lost bytes (one record per
// connection, from its first damaged exchange on).
func unreadableRecords(res *Result, und []capture.Undecrypted) []Unreadable {
	var out []Unreadable
	seen := map[string]bool{} // connections listed, by file and 4-tuple
	for _, u := range und {
		if k := u.Ref.File + "|" + u.Ref.Conn; u.Ref.Conn != "" {
			if seen[k] {
				continue // listed as undecrypted and as partly read
			}
			seen[k] = true
		}
		host := strings.ToLower(strings.TrimSuffix(u.ServerName, "."))
		target := u.Server
		if host != "" {
			target = host
			if _, port, err := net.SplitHostPort(u.Server); err == nil && port != "" {
				target = net.JoinHostPort(host, port)
			}
		}
		reason := fmt.Sprintf("may be in the connection to %s at %s (%s), which was not read in full: %s", target, stamp(u.Start), framesOf(u.Ref), u.Reason)
		if u.Kind != string(capture.GapBytesMissing) {
			what := "the encrypted connection"
			if u.ALPN != "" {
				what += " (ALPN " + u.ALPN + ")"
			}
			reason = fmt.Sprintf("may be in %s to %s at %s (%s), not decrypted: %s", what, target, stamp(u.Start), framesOf(u.Ref), u.Reason)
		}
		out = append(out, Unreadable{Host: host, Server: u.Server, Start: u.Start, End: u.End, Kind: u.Kind, Ref: u.Ref, Reason: reason})
	}
	byConn := map[string]int{}
	for _, ex := range res.Exchanges {
		var gap *capture.Gap
		for i := range ex.Gaps {
			if k := ex.Gaps[i].Kind; k == capture.GapBytesMissing || k == capture.GapUndecrypted {
				gap = &ex.Gaps[i]
				break
			}
		}
		if gap == nil || ex.Request == nil || ex.Request.URL == nil || (ex.Ref.Conn != "" && seen[ex.Ref.File+"|"+ex.Ref.Conn]) {
			continue
		}
		end := ex.Start.Add(ex.Duration)
		key := ex.Ref.Conn
		if key == "" && ex.ClientAddr != "" && ex.ServerAddr != "" {
			key = ex.ClientAddr + " -> " + ex.ServerAddr
		}
		if i, ok := byConn[key]; ok && key != "" {
			if end.After(out[i].End) {
				out[i].End = end
			}
			continue
		}
		host := hostOnly(ex.Request.URL.Host)
		if ex.TLS != nil && ex.TLS.ServerName != "" {
			host = strings.ToLower(ex.TLS.ServerName)
		}
		target := ex.Request.URL.Host
		if ex.Request.URL.Port() == "" {
			if _, port, err := net.SplitHostPort(ex.ServerAddr); err == nil {
				target = net.JoinHostPort(ex.Request.URL.Hostname(), port)
			}
		}
		u := *ex.Request.URL
		u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
		at := framesOf(ex.Ref)
		if at == "" {
			at = ex.Ref.String()
		}
		out = append(out, Unreadable{Host: host, Server: ex.ServerAddr, Start: ex.Start, End: end, Kind: string(gap.Kind), Ref: ex.Ref, Exchange: ex.Seq + 1,
			Reason: fmt.Sprintf("may be in the connection to %s that was not read in full from %s %s at %s (%s, exchange #%d) on: %s",
				target, ex.Request.Method, u.String(), stamp(ex.Start), at, ex.Seq+1, gap.Detail)})
		if key != "" {
			byConn[key] = len(out) - 1
		}
	}
	return out
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func framesOf(r capture.Ref) string {
	switch {
	case len(r.Frames) == 0:
		return r.String()
	case len(r.Frames) == 1 || r.Frames[0] == r.Frames[len(r.Frames)-1]:
		return fmt.Sprintf("frame %d", r.Frames[0])
	}
	return fmt.Sprintf("frames %d-%d", r.Frames[0], r.Frames[len(r.Frames)-1])
}

// hostOnly lower-cases a host and drops its port and IPv6 brackets.
func hostOnly(h string) string {
	h = strings.ToLower(h)
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.Trim(h, "[]"), ".")
}

func hostOfURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return hostOnly(u.Host)
}

// roleHosts are the names and addresses a flow's messages of one role
// went to.
type roleHosts struct {
	names map[string]bool
	addrs map[string]bool
}

func (r *roleHosts) addName(h string) {
	if h = hostOnly(h); h != "" {
		if r.names == nil {
			r.names = map[string]bool{}
		}
		r.names[h] = true
	}
}

func (r *roleHosts) addExchange(ex *capture.Exchange) {
	if ex == nil || ex.Request == nil || ex.Request.URL == nil {
		return
	}
	r.addName(ex.Request.URL.Host)
	if ex.TLS != nil {
		r.addName(ex.TLS.ServerName)
	}
	if ex.ServerAddr != "" {
		if r.addrs == nil {
			r.addrs = map[string]bool{}
		}
		r.addrs[ex.ServerAddr] = true
	}
}

func (r *roleHosts) match(u *Unreadable) bool {
	return (u.Host != "" && r.names[u.Host]) || (u.Server != "" && r.addrs[u.Server])
}

// flowRoles collects the hosts of a flow's authorization server(s), its
// resource and its redirect URI.
func flowRoles(f *Flow) (as, rs, redirect roleHosts) {
	for _, s := range f.steps {
		switch s.Kind {
		case KindChallenge, KindPRM, KindResource:
			rs.addExchange(s.Ex)
		case KindCallback:
			redirect.addExchange(s.Ex)
		case KindPreflight, KindOther, KindCIMD:
			// A preflight goes to either server; a CIMD fetch to the
			// client's host.
		default:
			as.addExchange(s.Ex)
		}
	}
	as.addName(hostOfURL(f.Issuer))
	for _, a := range f.ASMetadatas {
		for _, v := range a.Doc {
			switch x := v.(type) {
			case string:
				if strings.HasPrefix(x, "https://") || strings.HasPrefix(x, "http://") {
					as.addName(hostOfURL(x))
				}
			case map[string]any: // mtls_endpoint_aliases
				for _, y := range x {
					if s, ok := y.(string); ok {
						as.addName(hostOfURL(s))
					}
				}
			}
		}
	}
	for _, p := range f.PRMs {
		for _, s := range p.AuthorizationServers {
			as.addName(hostOfURL(s))
		}
	}
	rs.addName(hostOfURL(f.Resource))
	if f.Authorize != nil {
		redirect.addName(hostOfURL(f.Authorize.RedirectURI))
	}
	return as, rs, redirect
}

// span is the time the flow's captured messages cover.
func (f *Flow) span() (start, end time.Time) {
	for _, s := range f.steps {
		if s.Ex == nil || s.Ex.Start.IsZero() {
			continue
		}
		e := s.Ex.Start.Add(s.Ex.Duration)
		if start.IsZero() || s.Ex.Start.Before(start) {
			start = s.Ex.Start
		}
		if e.After(end) {
			end = e
		}
	}
	return start, end
}

// Lacks reports whether the flow holds no message of kind k.
func (f *Flow) Lacks(k Kind) bool {
	switch k {
	case KindToken:
		return f.Token == nil && len(f.Tokens) == 0
	case KindRefresh:
		return len(f.Refreshes) == 0
	}
	return len(f.Messages(k)) == 0
}

// attachUnreadable links every flow to the unreadable traffic that may
// hold some of its messages, and lists the legs it lacks that may be
// there as possibly missing.
func (c *correlator) attachUnreadable() {
	recs := unreadableRecords(c.res, c.opts.Undecrypted)
	if len(recs) == 0 {
		return
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Start.Before(recs[j].Start) })
	// Each host's records in start order, so that a flow looks only at
	// those that started before it ended.
	byName := map[string][]int{}
	byAddr := map[string][]int{}
	for i, r := range recs {
		if r.Host != "" {
			byName[r.Host] = append(byName[r.Host], i)
		}
		if r.Server != "" {
			byAddr[r.Server] = append(byAddr[r.Server], i)
		}
	}
	for _, f := range c.flows {
		as, rs, redirect := flowRoles(f)
		start, end := f.span()
		from, to := start.Add(-UnreadableMargin), end.Add(UnreadableMargin)
		var found []int
		seen := map[int]bool{}
		scan := func(l []int) {
			n := len(l)
			if !start.IsZero() {
				n = sort.Search(len(l), func(k int) bool { return recs[l[k]].Start.After(to) })
			}
			for k := n - 1; k >= 0 && len(found) < maxUnreadablePerFlow; k-- {
				i := l[k]
				r := &recs[i]
				if seen[i] || (!start.IsZero() && !r.End.IsZero() && r.End.Before(from)) {
					continue
				}
				seen[i] = true
				found = append(found, i)
			}
		}
		for _, rh := range []roleHosts{as, rs, redirect} {
			for _, n := range sortedKeys(rh.names) {
				scan(byName[n])
			}
			for _, a := range sortedKeys(rh.addrs) {
				scan(byAddr[a])
			}
		}
		sort.Ints(found)
		for _, i := range found {
			r := recs[i]
			var legs []Kind
			if as.match(&r) {
				legs = append(legs, asLegs...)
			}
			if rs.match(&r) {
				legs = append(legs, rsLegs...)
			}
			if redirect.match(&r) {
				legs = append(legs, redirectLegs...)
			}
			r.Legs = uniqueKinds(legs)
			f.Unreadable = append(f.Unreadable, r)
			for _, k := range r.Legs {
				if possibleLegs[k] && f.Lacks(k) {
					f.addPossiblyMissing(k, r.Reason, len(f.Unreadable)-1)
				}
			}
		}
	}
}

// maxUnreadablePerFlow bounds the unreadable connections recorded per
// flow (a browser may open hundreds to one host; a few say enough).
const maxUnreadablePerFlow = 16

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func uniqueKinds(ks []Kind) []Kind {
	seen := map[Kind]bool{}
	out := ks[:0:0]
	for _, k := range ks {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func (f *Flow) addPossiblyMissing(k Kind, reason string, rec int) {
	if _, ok := f.Missing[string(k)]; ok {
		return // known to be missing: that says more
	}
	for _, m := range f.possible {
		if m.Kind == k {
			return
		}
	}
	f.possible = append(f.possible, MissingLeg{Kind: k, Reason: reason, Possible: true, Unreadable: rec})
}
