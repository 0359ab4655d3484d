package oauth

import "testing"

// TestHostile_WellKnownIPv6Zone: found by FuzzWellKnown's seed. For an
// identifier on an IPv6 literal with a zone ("https://[fe80::1%25en0]/x",
// the zone percent-encoded as RFC 6874 requires), InsertWellKnown joins
// u.Host, which net/url has already decoded to "[fe80::1%en0]", so the
// metadata URL it builds does not parse and ParseWellKnown cannot map it
// back. Fix (oauth.go): build origins with
// (&url.URL{Scheme: u.Scheme, Host: u.Host}).String(), which re-encodes
// the zone, in InsertWellKnown, ParseWellKnown and Origin.
func TestHostile_WellKnownIPv6Zone(t *testing.T) {
	const id = "https://[fe80::1%25en0]/x"
	built := InsertWellKnown(id, WellKnownPRM)
	back, form := ParseWellKnown(built, WellKnownPRM)
	if back != id || form != FormInsert {
		t.Errorf("InsertWellKnown(%q) = %q, which parses back to %q (%q); want %q (insert)", id, built, back, form, id)
	}
}
