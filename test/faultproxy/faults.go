package faultproxy

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
)

// Fault is an AWS error answer. Code is what query-protocol and CBOR services (ELBv2, CloudWatch) send,
// JSONCode what JSON services (ECS, ECR, DynamoDB, Application Auto Scaling) send for the same condition
// (AWS spells them differently: Throttling vs ThrottlingException); empty JSONCode means Code.
type Fault struct {
	Status   int
	Code     string
	JSONCode string
	Message  string
}

// The faults tests usually want, with the status codes AWS answers them with.
var (
	Throttling         = Fault{Status: http.StatusBadRequest, Code: "Throttling", JSONCode: "ThrottlingException", Message: "Rate exceeded"}
	AccessDenied       = Fault{Status: http.StatusBadRequest, Code: "AccessDenied", JSONCode: "AccessDeniedException", Message: "User is not authorized to perform this action"}
	InternalFailure    = Fault{Status: http.StatusInternalServerError, Code: "InternalFailure", JSONCode: "InternalFailure", Message: "An internal error occurred"}
	ServiceUnavailable = Fault{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", JSONCode: "ServiceUnavailableException", Message: "Service is unavailable"}
)

// codeFor returns the error code this fault has in protocol p.
func (f Fault) codeFor(p Protocol) string {
	if p == ProtocolJSON && f.JSONCode != "" {
		return f.JSONCode
	}
	return f.Code
}

// faultType is the query protocol's Sender/Receiver split: 5xx are the service's fault.
func (f Fault) faultType() string {
	if f.Status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// namespaces are the Smithy namespaces JSON and CBOR services put in __type.
var namespaces = map[string]string{
	"ecs": "com.amazonaws.ecs", "ecr": "com.amazonaws.ecr", "dynamodb": "com.amazonaws.dynamodb",
	"autoscaling": "com.amazonaws.applicationautoscaling", "cloudwatch": "com.amazonaws.cloudwatch",
}

// write answers the call with the fault in the call's protocol.
func (f Fault) write(w http.ResponseWriter, r *http.Request, c Call) {
	id := requestID()
	code := f.codeFor(c.Protocol)
	h := w.Header()
	h.Set("X-Amzn-Requestid", id)
	var body []byte
	switch c.Protocol {
	case ProtocolJSON:
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			ct = "application/x-amz-json-1.1"
		}
		h.Set("Content-Type", ct)
		h.Set("X-Amzn-Errortype", code)
		body, _ = json.Marshal(map[string]string{"__type": qualified(c.Service, code), "message": f.Message})
	case ProtocolCBOR:
		// CloudWatch is "query compatible": the SDK takes the code from x-amzn-query-error.
		h.Set("Content-Type", "application/cbor")
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("X-Amzn-Query-Error", code+";"+f.faultType())
		body = cborTextMap([][2]string{{"__type", qualified(c.Service, code)}, {"message", f.Message}})
	default:
		h.Set("Content-Type", "text/xml")
		var b bytes.Buffer
		b.WriteString("<ErrorResponse><Error><Type>" + f.faultType() + "</Type><Code>")
		_ = xml.EscapeText(&b, []byte(code))
		b.WriteString("</Code><Message>")
		_ = xml.EscapeText(&b, []byte(f.Message))
		b.WriteString("</Message></Error><RequestId>" + id + "</RequestId></ErrorResponse>")
		body = b.Bytes()
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(f.Status)
	_, _ = w.Write(body)
}

func qualified(service, code string) string {
	if ns, ok := namespaces[service]; ok {
		return ns + "#" + code
	}
	return code
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", s[:8], s[8:12], s[12:16], s[16:20], s[20:])
}

// cborTextMap encodes a CBOR map of text strings to text strings (RFC 8949 major types 5 and 3).
func cborTextMap(pairs [][2]string) []byte {
	var b []byte
	b = cborHead(b, 5, len(pairs))
	for _, p := range pairs {
		for _, s := range p {
			b = cborHead(b, 3, len(s))
			b = append(b, s...)
		}
	}
	return b
}

func cborHead(b []byte, major byte, n int) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n < 1<<8:
		return append(b, m|24, byte(n))
	case n < 1<<16:
		return append(b, m|25, byte(n>>8), byte(n))
	default:
		return append(b, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}
