package capture

import "time"

// GapUndecrypted: part of the exchange travelled in TLS records that could
// not be decrypted (no keys from some point on, an authentication
// failure, damaged records). The detail says which direction and why.
const GapUndecrypted GapKind = "undecrypted"

// Undecrypted is a TLS connection a reader saw but could not decrypt. It
// yields no exchanges, yet the messages it carried are part of the
// traffic: the analysis can use it to tell "not sent" from "not
// readable" (a leg to ServerName between Start and End may be inside).
type Undecrypted struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Client and Server are "ip:port"; ServerName is the SNI (or, inside
	// a CONNECT tunnel, the tunnel's target host).
	Client     string `json:"client"`
	Server     string `json:"server"`
	ServerName string `json:"server_name,omitempty"`
	ALPN       string `json:"alpn,omitempty"`
	Ref        Ref    `json:"ref"`
	// Kind is a short reason: "no-keys", "no-handshake", "auth-failed",
	// "malformed", "bytes-missing", "truncated", "unsupported"; Reason
	// says it in full.
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}
