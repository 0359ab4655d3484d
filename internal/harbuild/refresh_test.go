package harbuild

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

func formOf(t *testing.T, e *Entry) url.Values {
	t.Helper()
	v, err := url.ParseQuery(e.ReqBody)
	if err != nil {
		t.Fatalf("body %q: %v", e.ReqBody, err)
	}
	return v
}

func respJSON(t *testing.T, e *Entry) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(e.RespBody), &m); err != nil {
		t.Fatalf("response %q: %v", e.RespBody, err)
	}
	return m
}

func TestSessionRefreshRotates(t *testing.T) {
	s := Scenario{Seed: 7, Revision: "2025-11-25", AuthScope: Str("mcp:read offline_access"), DCRScope: Str("mcp:read offline_access")}
	h := New("mitmproxy", "11", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	f := s.Build(h)
	x := s.Session(h, f)
	rt0 := x.RT
	if rt0 == "" {
		t.Fatal("no refresh token issued for offline_access")
	}
	before := h.Entries[len(h.Entries)-1].Time
	r := x.Refresh(Refresh{})
	if r.Time.Sub(before) < 50*time.Minute {
		t.Errorf("refresh at %v, want ~50 min after %v", r.Time, before)
	}
	q := formOf(t, r)
	if q.Get("grant_type") != "refresh_token" || q.Get("refresh_token") != rt0 || q.Get("client_id") != f.ClientID || q.Get("resource") != "https://mcp.example.com/mcp" {
		t.Errorf("refresh form = %v", q)
	}
	m := respJSON(t, r)
	if m["refresh_token"] == rt0 || m["refresh_token"] == "" || x.RT != m["refresh_token"] || x.AT != m["access_token"] {
		t.Errorf("rotation: old %s, response %v, session RT %s AT %s", rt0, m, x.RT, x.AT)
	}
	if got := r.RespHeader("Date"); got != r.Time.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT") {
		t.Errorf("Date = %q, want the refresh time %v", got, r.Time)
	}
	if r.RespHeader("Content-Length") != itoa(len(r.RespBody)) {
		t.Errorf("Content-Length %q for %d bytes", r.RespHeader("Content-Length"), len(r.RespBody))
	}

	// The client keeps the old token: the next refresh presents it again.
	x.Refresh(Refresh{KeepOldRT: true})
	kept := x.RT
	again := x.Refresh(Refresh{Error: "invalid_grant"})
	if formOf(t, again).Get("refresh_token") != kept || again.Status != 400 || respJSON(t, again)["error"] != "invalid_grant" {
		t.Errorf("failed refresh: %s %d %s", again.ReqBody, again.Status, again.RespBody)
	}
	if x.RT != kept {
		t.Error("a failed refresh must not change the tokens the client holds")
	}
	if len(x.Refreshes) != 3 {
		t.Errorf("%d refreshes recorded, want 3", len(x.Refreshes))
	}
}

func TestSessionRefreshKnobs(t *testing.T) {
	s := Scenario{Seed: 8, Revision: "2025-11-25", Confidential: true, AuthScope: Str("mcp:read offline_access")}
	h := New("mitmproxy", "11", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	x := s.Session(h, s.Build(h))
	r := x.Refresh(Refresh{NoRotation: true, NoResource: true, Scope: "mcp:read", Endpoint: "https://auth.example.com/token"})
	if r.URL != "https://auth.example.com/token" {
		t.Errorf("endpoint = %s", r.URL)
	}
	q := formOf(t, r)
	if q.Has("resource") || q.Get("scope") != "mcp:read" || q.Has("client_id") {
		t.Errorf("form = %v", q)
	}
	auth := ""
	for _, hd := range r.ReqHeaders {
		if hd[0] == "authorization" {
			auth = hd[1]
		}
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "Basic "))
	if !strings.HasPrefix(string(raw), x.F.ClientID+":") || x.Secret() == "" || !strings.HasSuffix(string(raw), ":"+url.QueryEscape(x.Secret())) {
		t.Errorf("Basic credentials %q for client %s", raw, x.F.ClientID)
	}
	if _, ok := respJSON(t, r)["refresh_token"]; ok {
		t.Error("NoRotation: the response must carry no refresh_token")
	}
	r2 := x.Refresh(Refresh{NoClientAuth: true, SameRT: true})
	if formOf(t, r2).Get("client_id") != x.F.ClientID {
		t.Errorf("NoClientAuth: the client still names itself, got %s", r2.ReqBody)
	}
	for _, hd := range r2.ReqHeaders {
		if hd[0] == "authorization" {
			t.Errorf("NoClientAuth: request carries %s", hd[1])
		}
	}
	if respJSON(t, r2)["refresh_token"] != formOf(t, r2).Get("refresh_token") {
		t.Error("SameRT: the response must re-issue the presented token")
	}
}

func TestSessionCall(t *testing.T) {
	s := Scenario{Seed: 9, Revision: "2025-11-25"}
	h := New("mitmproxy", "11", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	f := s.Build(h)
	x := s.Session(h, f)
	ok := x.Call(Call{})
	if ok.Status != 200 || !strings.Contains(ok.RespBody, `"isError":false`) {
		t.Errorf("call: %d %s", ok.Status, ok.RespBody)
	}
	found := false
	for _, hd := range ok.ReqHeaders {
		found = found || (hd[0] == "authorization" && hd[1] == "Bearer "+f.AccessToken)
	}
	if !found {
		t.Errorf("call headers %v lack the access token", ok.ReqHeaders)
	}
	denied := x.Call(Call{Token: "-", Status: 403, WWWAuthenticate: `Bearer error="insufficient_scope"`})
	if denied.RespHeader("WWW-Authenticate") == "" || !strings.Contains(denied.RespBody, "insufficient_scope") {
		t.Errorf("403: %v %s", denied.RespHeaders, denied.RespBody)
	}
	for _, hd := range denied.ReqHeaders {
		if hd[0] == "authorization" {
			t.Error(`Token "-" must send no Authorization header`)
		}
	}
}

func TestBuildClientCredentialsAndDevice(t *testing.T) {
	h := New("mitmproxy", "11", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	cc := Scenario{Seed: 10}.BuildClientCredentials(h, ClientCredentials{Scope: "reports:read", IssueRefreshToken: true})
	if q := formOf(t, cc.Token); q.Get("grant_type") != "client_credentials" || q.Has("client_id") {
		t.Errorf("cc form %v", q)
	}
	if m := respJSON(t, cc.Token); m["refresh_token"] == nil || m["scope"] != "reports:read" {
		t.Errorf("cc response %v", m)
	}
	if !strings.Contains(cc.ASM.RespBody, `"scopes_supported"`) {
		t.Error("the generic AS should advertise scopes_supported")
	}

	d := Scenario{Seed: 11}.BuildDevice(h, Device{Gaps: []time.Duration{5 * time.Second, 7 * time.Second}, SlowDown: []int{0}, Interval: 5})
	if len(d.Polls) != 2 {
		t.Fatalf("%d polls, want 2", len(d.Polls))
	}
	if got := d.Polls[1].Time.Sub(d.Polls[0].Time); got != 7*time.Second {
		t.Errorf("gap = %v, want 7s", got)
	}
	if respJSON(t, d.Polls[0])["error"] != "slow_down" || d.Polls[1].Status != 200 {
		t.Errorf("poll answers: %s / %d", d.Polls[0].RespBody, d.Polls[1].Status)
	}
	if q := formOf(t, d.Polls[0]); q.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" || q.Get("device_code") != d.DeviceCode {
		t.Errorf("poll form %v", q)
	}
	if !strings.Contains(d.ASM.RespBody, "device_authorization_endpoint") || !strings.Contains(d.DeviceAuth.RespBody, `"interval":5`) {
		t.Error("device metadata or authorization response incomplete")
	}
}

func TestReplaceAllAndDrop(t *testing.T) {
	h := &HAR{}
	a := &Entry{URL: "https://as/cb?code=a%2Fb", ReqBody: "code=a%2Fb&x=1", ReqHeaders: [][2]string{{"content-length", "14"}},
		RespBody: `{"t":"a/b"}`, RespHeaders: [][2]string{{"Location", "https://c/?code=a%2Fb"}, {"Content-Length", "11"}}}
	b := &Entry{URL: "https://other/"}
	h.Entries = []*Entry{a, b}
	h.ReplaceAll("a/b", "zz/yy")
	if a.URL != "https://as/cb?code=zz%2Fyy" || a.ReqBody != "code=zz%2Fyy&x=1" || a.RespBody != `{"t":"zz/yy"}` ||
		a.RespHeader("Location") != "https://c/?code=zz%2Fyy" || a.RespHeader("Content-Length") != "13" || a.ReqHeaders[0][1] != "16" {
		t.Errorf("after ReplaceAll: %+v", a)
	}
	h.Drop(a)
	if len(h.Entries) != 1 || h.Entries[0] != b {
		t.Errorf("after Drop: %v", h.Entries)
	}
}

func itoa(n int) string {
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	if s == "" {
		return "0"
	}
	return s
}
