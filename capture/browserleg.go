package capture

import (
	"net/url"
	"time"
)

// GapNotProxied: the exchange was not seen on the wire. The request is
// what the client handed to the browser (the authorization URL it opened,
// recorded by `oauthlint capture`'s browser helper); the browser's own
// request (headers, cookies) and the server's response did not pass
// through the capture.
const GapNotProxied GapKind = "not-proxied"

// BrowserRequest builds the exchange for a URL a client opened in the
// browser: a GET of the URL, request only. via names how it was handed
// over ("BROWSER", "xdg-open"); seq is the capture's sequence number.
func BrowserRequest(u *url.URL, at time.Time, via string, seq int64) *Exchange {
	ex := &Exchange{
		Start:   at,
		Request: &Request{Method: "GET", URL: u, BodySize: 0},
		Ref:     Ref{Entry: -1, ProxySeq: seq},
		Comment: "recorded by oauthlint capture's browser helper: the URL the client opened in the browser (via " + via + "); not proxied, request only",
	}
	ex.AddGap(GapNotProxied, "the client opened this URL in the browser (via "+via+"); the browser's request headers and cookies and the server's response did not pass through the proxy (oauthlint capture --browser chromium captures them)")
	ex.AddGap(GapNoResponse, "the browser's request did not pass through the proxy: the response was not captured")
	return ex
}
