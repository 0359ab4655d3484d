package rules

import (
	"sync"

	"github.com/oauthlint/oauthlint/analyze"
)

// jwtCacheMax bounds the decoded-token cache: rules decode the same bearer
// token for every rule and every request that carries it.
const jwtCacheMax = 4096

var (
	jwtCacheMu sync.Mutex
	jwtCache   = map[string]analyze.JWT{}
)

// decodeJWTCached is analyze.DecodeJWT with a bounded memo.
func decodeJWTCached(tok string) analyze.JWT {
	jwtCacheMu.Lock()
	if j, ok := jwtCache[tok]; ok {
		jwtCacheMu.Unlock()
		return j
	}
	jwtCacheMu.Unlock()
	j := analyze.DecodeJWT(tok)
	jwtCacheMu.Lock()
	if len(jwtCache) >= jwtCacheMax {
		jwtCache = map[string]analyze.JWT{}
	}
	jwtCache[tok] = j
	jwtCacheMu.Unlock()
	return j
}
