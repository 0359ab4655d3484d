package mitm

// NextSeq reserves the next sequence number of the capture for an
// exchange recorded beside the proxy (the authorization URL a client
// handed to the browser), so every exchange of the capture has its own
// proxy#N.
func (p *Proxy) NextSeq() int64 { return p.seq.Add(1) }
