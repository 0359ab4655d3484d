package analyze

import (
	"encoding/base64"
	"encoding/json"
	"github.com/oauthlint/oauthlint/analyze/oauth"
	"strings"
)

// JWT is a JSON Web Token decoded without verifying its signature: enough
// to read claims the AS put in it (scope, aud, exp). Valid is false for
// opaque tokens and anything that is not a three-part JWS.
type JWT struct {
	Valid  bool           `cel:"valid" json:"valid"`
	Header map[string]any `cel:"header" json:"header,omitempty"`
	Claims map[string]any `cel:"claims" json:"claims,omitempty"`
	// Alg and Typ come from the header.
	Alg string `cel:"alg" json:"alg,omitempty"`
	Typ string `cel:"typ" json:"typ,omitempty"`
	// Scopes is the granted scope from the "scope" claim (space-delimited
	// string, RFC 9068 §2.2.3) or "scp" (string or array, Entra/Okta).
	Scopes        []string `cel:"scopes" json:"scopes,omitempty"`
	HasScopeClaim bool     `cel:"has_scope_claim" json:"has_scope_claim,omitempty"`
	// Aud is the audience as a list (RFC 7519 allows a string or an array).
	Aud []string `cel:"aud" json:"aud,omitempty"`
	Iss string   `cel:"iss" json:"iss,omitempty"`
	Exp int64    `cel:"exp" json:"exp,omitempty"`
	Iat int64    `cel:"iat" json:"iat,omitempty"`
}

// DecodeJWT decodes a compact JWS without verification. It never fails:
// a value that is not a JWT yields JWT{Valid: false}.
func DecodeJWT(tok string) JWT {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(tok) > 1<<20 {
		return JWT{}
	}
	var j JWT
	if err := decodeSegment(parts[0], &j.Header); err != nil || j.Header == nil {
		return JWT{}
	}
	if err := decodeSegment(parts[1], &j.Claims); err != nil || j.Claims == nil {
		return JWT{}
	}
	j.Valid = true
	j.Alg, _ = j.Header["alg"].(string)
	j.Typ, _ = j.Header["typ"].(string)
	j.Iss, _ = j.Claims["iss"].(string)
	j.Exp = numClaim(j.Claims["exp"])
	j.Iat = numClaim(j.Claims["iat"])
	switch a := j.Claims["aud"].(type) {
	case string:
		j.Aud = []string{a}
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok {
				j.Aud = append(j.Aud, s)
			}
		}
	}
	for _, name := range []string{"scope", "scp"} {
		switch s := j.Claims[name].(type) {
		case string:
			j.Scopes = oauth.SplitScope(s)
			j.HasScopeClaim = true
		case []any:
			for _, v := range s {
				if str, ok := v.(string); ok {
					j.Scopes = append(j.Scopes, str)
				}
			}
			j.HasScopeClaim = true
		}
		if j.HasScopeClaim {
			break
		}
	}
	return j
}

func decodeSegment(seg string, dst *map[string]any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

func numClaim(v any) int64 {
	if f, ok := v.(float64); ok {
		return int64(f)
	}
	return 0
}
