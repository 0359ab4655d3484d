package capture

import (
	"crypto/sha256"
	"sort"
	"time"
)

// dupWindow is how far apart two captures of the same exchange may start
// (clocks of a browser and a proxy differ a little).
const dupWindow = 2 * time.Second

// Timeline merges the exchanges of several inputs into one list ordered by
// start time and numbers them (Seq). Within one input the original order
// breaks ties. The same exchange captured by two inputs (a browser HAR and a
// proxy HAR of one login) is kept once: the copy with fewer gaps wins and the
// other's Ref is listed in Also.
func Timeline(inputs ...[]*Exchange) []*Exchange {
	type item struct {
		ex    *Exchange
		input int
		pos   int
	}
	var all []item
	for i, in := range inputs {
		for j, ex := range in {
			if ex != nil && ex.Request != nil {
				all = append(all, item{ex, i, j})
			}
		}
	}
	sort.SliceStable(all, func(a, b int) bool {
		ta, tb := all[a].ex.Start, all[b].ex.Start
		if all[a].input == all[b].input {
			// Within one input keep file order unless both times are known
			// and clearly ordered the other way.
			if ta.IsZero() || tb.IsZero() {
				return all[a].pos < all[b].pos
			}
		}
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		if all[a].input != all[b].input {
			return all[a].input < all[b].input
		}
		return all[a].pos < all[b].pos
	})
	out := make([]*Exchange, 0, len(all))
	inputOf := make(map[*Exchange]int, len(all))
	var keys map[[32]byte][]int // dedupe key → indexes in out
	if len(inputs) > 1 {
		keys = map[[32]byte][]int{}
	}
	for _, it := range all {
		if keys != nil {
			k := dupKey(it.ex)
			merged := false
			for _, idx := range keys[k] {
				prev := out[idx]
				if inputOf[prev] == it.input || absDur(prev.Start.Sub(it.ex.Start)) > dupWindow {
					continue
				}
				if len(it.ex.Gaps) < len(prev.Gaps) {
					it.ex.Also = append(it.ex.Also, prev.Ref)
					it.ex.Also = append(it.ex.Also, prev.Also...)
					out[idx] = it.ex
					inputOf[it.ex] = it.input
				} else {
					prev.Also = append(prev.Also, it.ex.Ref)
				}
				merged = true
				break
			}
			if merged {
				continue
			}
			keys[k] = append(keys[k], len(out))
		}
		inputOf[it.ex] = it.input
		out = append(out, it.ex)
	}
	for i, ex := range out {
		ex.Seq = i
	}
	return out
}

func dupKey(ex *Exchange) [32]byte {
	h := sha256.New()
	h.Write([]byte(ex.Request.Method))
	h.Write([]byte{0})
	h.Write([]byte(ex.Request.URL.String()))
	h.Write([]byte{0})
	h.Write(ex.Request.Body)
	h.Write([]byte{0})
	if ex.Response != nil {
		h.Write([]byte{byte(ex.Response.Status >> 8), byte(ex.Response.Status)})
	}
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
