package capture

import "time"

// ClientRun is what a capture knows about the client process it recorded.
// `oauthlint capture -- CMD` sees the client's whole run, so traffic that
// never came after a point is known not to have happened (a client that
// exited right after its registration rejected the response); other
// captures leave it nil and nothing is inferred from their end.
type ClientRun struct {
	Command  string    `json:"command"`
	ExitCode int       `json:"exitCode"`
	Ended    time.Time `json:"ended"`
}
