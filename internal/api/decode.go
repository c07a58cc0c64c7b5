package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/townhall/townhall/internal/errcode"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 64 << 10

var (
	errTooLarge = errcode.New(errcode.TooLarge, fmt.Sprintf("request body is over %d bytes", MaxBody))
	errBadJSON  = errcode.New(errcode.BadRequest, "malformed request body")
)

// request is a JSON request body that validates itself after decoding.
type request interface {
	validate() error
}

// decode parses data as one JSON object into a T: unknown fields, duplicate keys,
// trailing data and wrong types are errors; then T validates its fields.
func decode[T any, PT interface {
	*T
	request
}](data []byte) (T, error) {
	var v T
	if err := jsonv2.Unmarshal(data, &v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return v, fmt.Errorf("%w: %s", errBadJSON, describeJSONError(err))
	}
	if err := PT(&v).validate(); err != nil {
		return v, err
	}
	return v, nil
}

func describeJSONError(err error) string {
	var se *jsonv2.SemanticError
	if errors.As(err, &se) && se.JSONPointer != "" {
		return fmt.Sprintf("field %s: %v", se.JSONPointer, se.Err)
	}
	return err.Error()
}

// readBody reads a request body up to MaxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readBodyMax(w, r, MaxBody)
}

// readBodyMax reads a request body up to max bytes.
func readBodyMax(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		if max != MaxBody {
			return nil, errcode.New(errcode.TooLarge, fmt.Sprintf("request body is over %d bytes", max))
		}
		return nil, errTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadJSON, err)
	}
	return data, nil
}

// bind reads and decodes the body of r into a T.
func bind[T any, PT interface {
	*T
	request
}](w http.ResponseWriter, r *http.Request) (T, error) {
	data, err := readBody(w, r)
	if err != nil {
		var zero T
		return zero, err
	}
	return decode[T, PT](data)
}

// bindLimit reads and decodes the body of r, of at most max bytes, into a T.
func bindLimit[T any, PT interface {
	*T
	request
}](w http.ResponseWriter, r *http.Request, max int64) (T, error) {
	data, err := readBodyMax(w, r, max)
	if err != nil {
		var zero T
		return zero, err
	}
	return decode[T, PT](data)
}
