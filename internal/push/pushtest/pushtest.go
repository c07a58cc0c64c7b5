// Package pushtest is a push service for tests: an HTTP endpoint on loopback
// that stands for a browser vendor's, with a subscription whose keys it made.
// It checks each push's VAPID signature (RFC 8292) and decrypts its payload
// (RFC 8291, aes128gcm) as a browser would, so a test sees what the service
// worker would get. Only tests import it.
package pushtest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Push is one push the endpoint received, decrypted.
type Push struct {
	Plaintext []byte
	TTL       string
	Urgency   string
	VAPIDKey  string // the k= of the Authorization header: the server's public key
	Err       error  // why it could not be read, if it could not
}

// Endpoint is a push service with one subscription.
type Endpoint struct {
	t       testing.TB
	srv     *httptest.Server
	private *ecdh.PrivateKey
	auth    []byte
	pushes  chan Push

	mu     sync.Mutex
	status int
}

// New starts an endpoint, closed when the test ends.
func New(t testing.TB) *Endpoint {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := &Endpoint{t: t, private: k, auth: make([]byte, 16), pushes: make(chan Push, 64), status: http.StatusCreated}
	_, _ = rand.Read(e.auth)
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

// Subscription is the subscription as a browser's PushSubscription.toJSON()
// gives it: {"endpoint","keys":{"p256dh","auth"}}.
func (e *Endpoint) Subscription() map[string]any {
	return map[string]any{"endpoint": e.URL(), "keys": map[string]string{
		"p256dh": base64.RawURLEncoding.EncodeToString(e.private.PublicKey().Bytes()),
		"auth":   base64.RawURLEncoding.EncodeToString(e.auth),
	}}
}

// URL is the subscription's endpoint.
func (e *Endpoint) URL() string { return e.srv.URL + "/push/sub1" }

// Answer makes the endpoint answer status from now on (201 by default; 410: the
// subscription is gone).
func (e *Endpoint) Answer(status int) {
	e.mu.Lock()
	e.status = status
	e.mu.Unlock()
}

// Next waits for the next push, up to ctx.
func (e *Endpoint) Next(ctx context.Context) (Push, error) {
	select {
	case p := <-e.pushes:
		return p, nil
	case <-ctx.Done():
		return Push{}, fmt.Errorf("no push came: %w", ctx.Err())
	}
}

func (e *Endpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	p := Push{TTL: r.Header.Get("TTL"), Urgency: r.Header.Get("Urgency")}
	if err == nil {
		p.VAPIDKey, err = checkVAPID(r.Header.Get("Authorization"), "http://"+r.Host)
	}
	if err == nil && r.Header.Get("Content-Encoding") != "aes128gcm" {
		err = fmt.Errorf("content encoding %q", r.Header.Get("Content-Encoding"))
	}
	if err == nil {
		p.Plaintext, err = e.decrypt(body)
	}
	p.Err = err
	e.mu.Lock()
	status := e.status
	e.mu.Unlock()
	select {
	case e.pushes <- p:
	default:
	}
	w.WriteHeader(status)
}

// decrypt opens an aes128gcm body (RFC 8188 §2, with the keys of RFC 8291 §3.4).
func (e *Endpoint) decrypt(body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("short body")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || rs < 18 {
		return nil, errors.New("bad header")
	}
	asPublic, ciphertext := body[21:21+idlen], body[21+idlen:]
	pub, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, fmt.Errorf("the server's key: %w", err)
	}
	secret, err := e.private.ECDH(pub)
	if err != nil {
		return nil, err
	}
	info := append(append([]byte("WebPush: info\x00"), e.private.PublicKey().Bytes()...), asPublic...)
	ikm, err := hkdf.Key(sha256.New, secret, e.auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	if len(ciphertext) > int(rs) {
		return nil, errors.New("more than one record")
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypting: %w", err)
	}
	// The last record ends with the delimiter 2, then zero padding.
	end := bytes.LastIndexFunc(plain, func(r rune) bool { return r != 0 })
	if end < 0 || plain[end] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return plain[:end], nil
}

// checkVAPID checks an Authorization header "vapid t=JWT, k=KEY": the JWT is
// ES256, signed by KEY, for this audience, and not expired in the past.
func checkVAPID(h, audience string) (string, error) {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return "", fmt.Errorf("the authorization header %q is not vapid", h)
	}
	var token, key string
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "t="); ok {
			token = v
		}
		if v, ok := strings.CutPrefix(part, "k="); ok {
			key = v
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return "", fmt.Errorf("k: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return "", fmt.Errorf("k: %w", err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("t is not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "", errors.New("the JWT's signature is not ES256")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return "", errors.New("the VAPID signature does not verify")
	}
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c struct {
		Aud string `json:"aud"`
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
	}
	if err := json.Unmarshal(claims, &c); err != nil {
		return "", err
	}
	if c.Aud != audience || c.Sub == "" || c.Exp == 0 {
		return "", fmt.Errorf("claims %+v, want aud %s", c, audience)
	}
	return key, nil
}
