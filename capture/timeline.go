package capture

import (
	"bytes"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"
)

// dupWindow is how far apart two captures of the same exchange may start
// (clocks of a browser and a proxy differ a little).
const dupWindow = 2 * time.Second

// Timeline merges the exchanges of several inputs into one list ordered by
// start time and numbers them (Seq). Ties keep the input order, then the
// order within the input. An exchange without a start time keeps its place
// in its input: it sorts with the exchange before it in the same input (or
// the one after it, when it comes first); an input without any start time
// sorts before the others, in file order.
//
// The same exchange captured by two inputs (a browser HAR and a proxy HAR of
// one login) is kept once: same method, same URL (scheme and host
// case-insensitive, default port and fragment ignored), same status (or no
// response on one side), same request body (unless one side lost it), both
// starting within 2 s. The copy with fewer gaps wins; the other's Ref is
// listed in the winner's Also. Copies are paired closest in time first and
// a merged group holds at most one exchange per input, so two identical
// requests captured by both inputs stay two. Exchanges of one input are
// never merged, and neither are exchanges without a start time.
func Timeline(inputs ...[]*Exchange) []*Exchange {
	type item struct {
		ex    *Exchange
		input int
		pos   int
		at    time.Time // start, or the inherited one (see above)
	}
	var all []*item
	for i, in := range inputs {
		first := len(all)
		var last time.Time
		for j, ex := range in {
			if ex == nil || ex.Request == nil || ex.Request.URL == nil {
				continue
			}
			if !ex.Start.IsZero() {
				last = ex.Start
			}
			all = append(all, &item{ex: ex, input: i, pos: j, at: last})
		}
		// Exchanges before the input's first known time take that time.
		var next time.Time
		for k := len(all) - 1; k >= first; k-- {
			if !all[k].ex.Start.IsZero() {
				next = all[k].ex.Start
			} else if all[k].at.IsZero() {
				all[k].at = next
			}
		}
	}
	before := func(a, b *item) bool {
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		if a.input != b.input {
			return a.input < b.input
		}
		return a.pos < b.pos
	}
	sort.SliceStable(all, func(a, b int) bool { return before(all[a], all[b]) })

	// Candidate pairs: same method and URL, different inputs, both with a
	// start time, within the window, compatible status and body. They are
	// merged closest first, so each exchange joins its nearest copy; a
	// group never holds two exchanges of one input.
	pos := make(map[*item]int, len(all))
	buckets := map[string][]*item{}
	var keys []string
	for i, it := range all {
		pos[it] = i
		if len(inputs) < 2 || it.ex.Start.IsZero() {
			continue
		}
		k := it.ex.Request.Method + " " + normalizeURL(it.ex.Request.URL)
		if buckets[k] == nil {
			keys = append(keys, k)
		}
		buckets[k] = append(buckets[k], it)
	}
	type pair struct {
		d    time.Duration
		a, b *item
	}
	var pairs []pair
	for _, k := range keys {
		b := buckets[k]
		sort.SliceStable(b, func(i, j int) bool { return b[i].ex.Start.Before(b[j].ex.Start) })
		for i := range b {
			for j := i + 1; j < len(b) && b[j].ex.Start.Sub(b[i].ex.Start) <= dupWindow; j++ {
				if b[i].input != b[j].input && sameExchange(b[i].ex, b[j].ex) {
					pairs = append(pairs, pair{b[j].ex.Start.Sub(b[i].ex.Start), b[i], b[j]})
				}
			}
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool {
		if pairs[i].d != pairs[j].d {
			return pairs[i].d < pairs[j].d
		}
		if pos[pairs[i].a] != pos[pairs[j].a] {
			return pos[pairs[i].a] < pos[pairs[j].a]
		}
		return pos[pairs[i].b] < pos[pairs[j].b]
	})
	type group struct{ members []*item }
	groupOf := map[*item]*group{}
	find := func(it *item) *group {
		g := groupOf[it]
		if g == nil {
			g = &group{members: []*item{it}}
			groupOf[it] = g
		}
		return g
	}
	for _, p := range pairs {
		ga, gb := find(p.a), find(p.b)
		if ga == gb || sharesInput(ga.members, gb.members, func(it *item) int { return it.input }) {
			continue
		}
		ga.members = append(ga.members, gb.members...)
		for _, it := range gb.members {
			groupOf[it] = ga
		}
	}
	// Each group keeps its copy with the fewest gaps (the earliest on a
	// tie); the others are listed in its Also, in timeline order.
	var kept []*item
	for _, it := range all {
		g := groupOf[it]
		if g == nil {
			kept = append(kept, it)
			continue
		}
		if g.members[0] == nil {
			continue // group already handled
		}
		sort.SliceStable(g.members, func(i, j int) bool { return pos[g.members[i]] < pos[g.members[j]] })
		win := g.members[0]
		for _, m := range g.members[1:] {
			if len(m.ex.Gaps) < len(win.ex.Gaps) {
				win = m
			}
		}
		for _, m := range g.members {
			if m != win {
				win.ex.Also = append(win.ex.Also, m.ex.Ref)
			}
		}
		kept = append(kept, win)
		g.members[0] = nil
	}
	// A winner may start up to 2 s after the copy it replaces: order by
	// the kept copies.
	sort.SliceStable(kept, func(a, b int) bool { return before(kept[a], kept[b]) })
	res := make([]*Exchange, len(kept))
	for i, it := range kept {
		it.ex.Seq = i
		res[i] = it.ex
	}
	return res
}

func sharesInput[T any](a, b []T, input func(T) int) bool {
	for _, x := range a {
		for _, y := range b {
			if input(x) == input(y) {
				return true
			}
		}
	}
	return false
}

// sameExchange compares what two captures of one exchange must share
// besides method and URL.
func sameExchange(a, b *Exchange) bool {
	if a.Response != nil && b.Response != nil && a.Response.Status != b.Response.Status {
		return false
	}
	if !bytes.Equal(a.Request.Body, b.Request.Body) && !a.HasGap(GapRequestBody) && !b.HasGap(GapRequestBody) {
		return false
	}
	return true
}

// normalizeURL drops what differs between captures of one request: the
// case of scheme and host, a default port (proxies write
// https://host:443/), and the fragment (browsers strip it).
func normalizeURL(u *url.URL) string {
	c := *u
	c.Scheme = strings.ToLower(c.Scheme)
	host := strings.ToLower(c.Host)
	if h, p, err := net.SplitHostPort(host); err == nil {
		if (p == "443" && (c.Scheme == "https" || c.Scheme == "wss")) || (p == "80" && (c.Scheme == "http" || c.Scheme == "ws")) {
			host = h
			if strings.Contains(h, ":") {
				host = "[" + h + "]"
			}
		}
	}
	c.Host = host
	c.Fragment, c.RawFragment = "", ""
	if c.Path == "" {
		c.Path = "/"
	}
	return c.String()
}
