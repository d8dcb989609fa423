package fixgraph

import (
	"errors"
	"fmt"
	"net/http"
)

// Application error codes. Each maps to one HTTP status and one GraphQL extensions.code at the edge.
const (
	EINVALID      = "invalid"      // the input is malformed
	ENOTFOUND     = "not_found"    // the thing asked for does not exist
	ECONFLICT     = "conflict"     // the write conflicts with the stored state
	EUNSUPPORTED  = "unsupported"  // a file type or feature we do not handle
	EUNREADABLE   = "unreadable"   // a file we handle but cannot read (broken, garbled, empty)
	ETOOLARGE     = "too_large"    // an input over a configured limit
	EUNAVAILABLE  = "unavailable"  // a configured server cannot be reached
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // credentials without the right
	ERATELIMITED  = "rate_limited" // over a rate limit; try again later
	EINTERNAL     = "internal"     // a bug or an unexpected failure; its details are logged, not shown
)

// HTTPStatus returns the HTTP status of an error code, 500 for an unknown one.
func HTTPStatus(code string) int {
	switch code {
	case EINVALID:
		return http.StatusBadRequest
	case ENOTFOUND:
		return http.StatusNotFound
	case ECONFLICT:
		return http.StatusConflict
	case EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case EUNREADABLE:
		return http.StatusUnprocessableEntity
	case ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case EUNAUTHORIZED:
		return http.StatusUnauthorized
	case EFORBIDDEN:
		return http.StatusForbidden
	case ERATELIMITED:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// Error is the application error: a code and a message that is safe to show to a user.
// Err, when set, is the underlying cause; it is logged, never shown.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error returns the message, with the cause when there is one.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with code and message around the cause err.
func WrapError(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, or EINTERNAL.
func CodeOf(err error) string {
	var e *Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// MessageOf returns the safe message of the first *Error in err's chain, or a generic one.
func MessageOf(err error) string {
	var e *Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
