package cli

import (
	"encoding/base64"
	"sync"
)

type syncMutex = sync.Mutex

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
