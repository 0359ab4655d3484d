package rules

import (
	"fmt"
	"slices"
	"testing"

	"github.com/oauthlint/oauthlint/analyze"
)

func TestRelatedFlowsBounded(t *testing.T) {
	var flows []*analyze.Flow
	for i := 0; i < 300; i++ {
		client := "shared"
		if i%3 == 0 {
			client = fmt.Sprintf("solo-%d", i)
		}
		flows = append(flows, &analyze.Flow{ID: fmt.Sprint(i), ClientID: client})
	}
	rel := RelatedFlows(flows, 16)
	for i, f := range flows {
		r := rel[f]
		if len(r) == 0 || len(r) > 16 {
			t.Fatalf("flow %d: %d related", i, len(r))
		}
		self := false
		for j, g := range r {
			self = self || g == f
			if j > 0 && r[j-1].ID >= g.ID && len(r[j-1].ID) >= len(g.ID) {
				// time (index) order
				t.Fatalf("flow %d: related not in order", i)
			}
			if f.ClientID != "shared" && g != f {
				t.Fatalf("flow %d (%s) related to %s", i, f.ClientID, g.ClientID)
			}
		}
		if !self {
			t.Fatalf("flow %d does not see itself", i)
		}
	}
	// The nearest related flows are kept.
	r := rel[flows[150]]
	for _, g := range r {
		var n int
		fmt.Sscan(g.ID, &n)
		if n < 150-30 || n > 150+30 {
			t.Errorf("flow 150 sees distant flow %d", n)
		}
	}
}

// A flow names the same key several times (each metadata fetch of its
// discovery names the same authorization server): it still counts once
// in that key's list, so the window around it reaches the limit's worth
// of other flows. With each key listed once per mention, the window held
// copies of the few nearest flows and the flow saw only those.
func TestRelatedFlowsRepeatedKeys(t *testing.T) {
	var flows []*analyze.Flow
	for i := range 200 {
		f := &analyze.Flow{ID: fmt.Sprint(i)}
		for range 8 {
			f.ASMetadatas = append(f.ASMetadatas, &analyze.ASMetadata{HTTP: analyze.HTTP{Origin: "https://as.example"}})
		}
		flows = append(flows, f)
	}
	rel := RelatedFlows(flows, 16)
	if r := rel[flows[100]]; len(r) != 16 {
		t.Errorf("flow 100 sees %d flows sharing its AS, want the 16 nearest", len(r))
	}
}

// Every endpoint a flow's metadata names keys the flow by its origin,
// however many copies of the metadata the flow holds and whichever copy
// first names an endpoint (each URL is parsed once).
func TestFlowKeysFromRepeatedMetadata(t *testing.T) {
	doc := func(extra map[string]any) map[string]any {
		d := map[string]any{"issuer": "https://as.example", "token_endpoint": "https://as.example/token"}
		for k, v := range extra {
			d[k] = v
		}
		return d
	}
	f := &analyze.Flow{ID: "F1"}
	for i := range 5 {
		extra := map[string]any{}
		if i == 3 {
			extra["mtls_endpoint_aliases"] = map[string]any{"token_endpoint": "https://mtls.as.example/token"}
			extra["registration_endpoint"] = "https://reg.example/register"
		}
		f.ASMetadatas = append(f.ASMetadatas, &analyze.ASMetadata{HTTP: analyze.HTTP{Origin: "https://as.example"}, Doc: doc(extra)})
	}
	want := []string{"as:https://as.example", "as:https://mtls.as.example", "as:https://reg.example"}
	if got := flowKeys(f); !slices.Equal(got, want) {
		t.Errorf("flowKeys = %q, want %q", got, want)
	}
}
