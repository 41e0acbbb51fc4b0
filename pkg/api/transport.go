package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// MaxHeaderBytes is the request header limit of the daemon's http.Server.
const MaxHeaderBytes = 64 << 10

// NewHTTPServer returns the http.Server the daemon runs h with: timeouts and the header limit. Serve it
// on a listener wrapped with JSONErrorListener so that its own refusals are JSON too.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// JSONErrorListener wraps ln so that the few answers net/http writes itself, before any handler runs
// (431 for headers over MaxHeaderBytes, 400 for a malformed request, 501 for an unknown
// Transfer-Encoding), reach the client in the API's error shape {"error":{"code","message"}}. The
// 501 becomes a 400: it is bad input, and no input gets a 5xx.
func JSONErrorListener(ln net.Listener) net.Listener { return jsonErrorListener{ln} }

type jsonErrorListener struct{ net.Listener }

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return jsonErrorConn{c}, nil
}

type jsonErrorConn struct{ net.Conn }

// CloseWrite keeps the TCP half-close net/http uses after a 431 (so the client reads the answer
// instead of a reset), which wrapping would otherwise hide.
func (c jsonErrorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c jsonErrorConn) Write(b []byte) (int, error) {
	out, ok := rewriteServerError(b)
	if !ok {
		return c.Conn.Write(b)
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// goErrorHeaders is what net/http's server puts between the status line and the body of the answers it
// writes straight to the connection (net/http/server.go, conn.serve). Handler responses always carry
// a Date header, so they never match.
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// goExpectationFailed is net/http's whole answer to an Expect header other than 100-continue (written
// through the response, so with a Date header, but with no body); no handler here answers 417.
const goExpectationFailed = "HTTP/1.1 417 Expectation Failed\r\n"

// rewriteServerError turns one of net/http's plain-text error answers into a JSON one.
func rewriteServerError(b []byte) ([]byte, bool) {
	const proto = "HTTP/1.1 "
	if bytes.HasPrefix(b, []byte(goExpectationFailed)) && bytes.HasSuffix(b, []byte("\r\nContent-Length: 0\r\n\r\n")) {
		return jsonAnswer(http.StatusExpectationFailed, deploy.KindInvalid, "unsupported Expect header (only 100-continue is understood)"), true
	}
	i := bytes.Index(b, []byte(goErrorHeaders))
	if !bytes.HasPrefix(b, []byte(proto)) || i < len(proto)+3 {
		return nil, false
	}
	status, err := strconv.Atoi(string(b[len(proto) : len(proto)+3]))
	if err != nil {
		return nil, false
	}
	msg := string(b[i+len(goErrorHeaders):])
	kind := deploy.KindInvalid
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		kind, msg = KindTooLarge, fmt.Sprintf("request headers larger than %d bytes", MaxHeaderBytes)
	case http.StatusNotImplemented:
		status = http.StatusBadRequest
	}
	return jsonAnswer(status, kind, msg), true
}

// jsonAnswer is a whole HTTP/1.1 answer in the API's error shape that closes the connection.
func jsonAnswer(status int, kind deploy.Kind, msg string) []byte {
	body, _ := json.Marshal(ErrorResponse{Error: ErrorDetail{Code: string(kind), Message: msg}})
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: %d\r\n\r\n",
		status, http.StatusText(status), len(body)+1)
	out.Write(body)
	out.WriteByte('\n')
	return out.Bytes()
}
