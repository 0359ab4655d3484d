package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// With -rate the closed loop sends that many requests per second over all
// its connections, not as many as the server answers.
func TestClosedLoopRate(t *testing.T) {
	srv := httptest.NewServer(newAPI())
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	f := loadFlags{conns: 4, dur: time.Second, warmup: 200 * time.Millisecond, rate: 50, seed: 1}
	r := closedLoop(f, client, srv.URL, func() string { return "" }, &errs{}, 0)
	if r.Errors > 0 {
		t.Fatalf("%d errors, first: %s", r.Errors, r.FirstErr)
	}
	if r.Rate != 50 {
		t.Errorf("result rate %v, want 50", r.Rate)
	}
	// 50 due in the measured second, give or take the request in flight
	// on each connection at either end. (A low rate, so that a slow
	// machine under -race still keeps up.)
	paced := r.Requests
	if paced < 40 || paced > 55 {
		t.Errorf("%d requests in %.2f s at 50/s", paced, r.Seconds)
	}
	f.rate = 0
	r = closedLoop(f, client, srv.URL, func() string { return "" }, &errs{}, 0)
	if r.Requests < 2*paced {
		t.Errorf("back to back: %d requests in a second against %d at 50/s: the pacing is not what held the first run back", r.Requests, paced)
	}
}
