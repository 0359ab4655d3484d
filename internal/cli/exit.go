package cli

import (
	"errors"
	"fmt"
)

// Exit codes (documented in the README).
const (
	ExitOK       = 0 // no finding at or above --fail-on
	ExitFindings = 1 // findings at or above --fail-on
	ExitUsage    = 2 // bad flags or unusable input
	ExitInternal = 3 // a bug in oauthlint
)

// exitError carries an exit code with an optional message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

func inputError(err error) error { return &exitError{code: ExitUsage, err: err} }

// errFindings ends a run whose findings reached --fail-on; the report
// was already printed, so there is nothing more to say.
var errFindings = &exitError{code: ExitFindings}

func codeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	// cobra's own errors (unknown flag, missing argument) are usage errors.
	return ExitUsage
}
