package analyze

import (
	"reflect"
	"regexp"
	"testing"
)

func TestParseWWWAuthenticate(t *testing.T) {
	tests := []struct {
		in      []string
		want    []AuthChallenge
		wantErr bool
	}{
		{
			in: []string{`Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="http://localhost:46553/.well-known/oauth-protected-resource/mcp"`},
			want: []AuthChallenge{{Scheme: "Bearer", Params: map[string]string{
				"error": "invalid_token", "error_description": "Missing Authorization header",
				"resource_metadata": "http://localhost:46553/.well-known/oauth-protected-resource/mcp"}}},
		},
		{
			in: []string{`Bearer realm="mcp", scope="mcp:read mcp:write"`, `DPoP algs="ES256 RS256"`},
			want: []AuthChallenge{
				{Scheme: "Bearer", Params: map[string]string{"realm": "mcp", "scope": "mcp:read mcp:write"}},
				{Scheme: "DPoP", Params: map[string]string{"algs": "ES256 RS256"}},
			},
		},
		{
			// Two challenges in one header line, token68 and bare scheme.
			in: []string{`Basic realm="x", Bearer scope=read, Negotiate abc123==, Bearer`},
			want: []AuthChallenge{
				{Scheme: "Basic", Params: map[string]string{"realm": "x"}},
				{Scheme: "Bearer", Params: map[string]string{"scope": "read"}},
				{Scheme: "Negotiate", Params: map[string]string{}, Token68: "abc123=="},
				{Scheme: "Bearer", Params: map[string]string{}},
			},
		},
		{
			in:   []string{`Bearer error_description="a \"quoted\" word", scope = "x"`},
			want: []AuthChallenge{{Scheme: "Bearer", Params: map[string]string{"error_description": `a "quoted" word`, "scope": "x"}}},
		},
		{
			in:      []string{`Bearer scope="unterminated`},
			want:    []AuthChallenge{{Scheme: "Bearer", Params: map[string]string{"scope": "unterminated"}}},
			wantErr: true,
		},
		{in: []string{``}, want: nil},
	}
	for _, tt := range tests {
		got, err := ParseWWWAuthenticate(tt.in...)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err = %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		for i := range got {
			got[i].Counts = nil
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %#v\nwant %#v", tt.in, got, tt.want)
		}
	}
}

func TestWWWAuthenticateRepeatedParam(t *testing.T) {
	got, err := ParseWWWAuthenticate(`Bearer scope="a", scope="b"`)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Params["scope"] != "a" || got[0].Counts["scope"] != 2 {
		t.Errorf("got %v counts %v", got[0].Params, got[0].Counts)
	}
}

// IsToken68 agrees with the RFC 7235 token68 grammar as a regular
// expression states it, on hand-picked strings and on every string of up
// to three bytes from an alphabet of its edge cases.
func TestIsToken68(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)
	for _, s := range []string{"", "=", "==", "a", "a=", "a==", "a=b", "abc.DEF-ghi_jkl~mno+pqr/stu==", "eyJhbGciOiJIUzI1NiJ9.e30.sig",
		"a b", "a\t", "\"a\"", "a,b", "ä", "a=\n", "a\n", "tok%20en", "a==b=="} {
		if got, want := IsToken68(s), re.MatchString(s); got != want {
			t.Errorf("IsToken68(%q) = %v, want %v", s, got, want)
		}
	}
	alphabet := "aZ09-._~+/= \"\t,\xff"
	var walk func(prefix string, n int)
	walk = func(prefix string, n int) {
		if got, want := IsToken68(prefix), re.MatchString(prefix); got != want {
			t.Fatalf("IsToken68(%q) = %v, want %v", prefix, got, want)
		}
		if n == 0 {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			walk(prefix+alphabet[i:i+1], n-1)
		}
	}
	walk("", 3)
}
