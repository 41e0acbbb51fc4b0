package albmetrics

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Namespace is the ALB's CloudWatch namespace.
const Namespace = "AWS/ApplicationELB"

// Dimension is one CloudWatch metric dimension.
type Dimension struct{ Name, Value string }

// StatisticSet is a pre-aggregated datapoint (CloudWatch's StatisticValues).
type StatisticSet struct{ SampleCount, Sum, Minimum, Maximum float64 }

// Datum is one datapoint to publish: Value, or Stats when set.
type Datum struct {
	MetricName string
	Dimensions []Dimension
	Timestamp  time.Time
	Value      float64
	Stats      *StatisticSet
	Unit       string // "Count" or "Seconds"
	// StorageResolution is 1 for high-resolution (sub-minute) datapoints, else 60.
	StorageResolution int
}

// Sink stores datapoints (PutMetricData).
type Sink interface {
	Put(ctx context.Context, namespace string, data []Datum) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, namespace string, data []Datum) error

// Put calls f.
func (f SinkFunc) Put(ctx context.Context, namespace string, data []Datum) error {
	return f(ctx, namespace, data)
}

// KumoSink writes datapoints to the kumo emulator at url (http://127.0.0.1:PORT) with the
// rpc-v2-cbor PutMetricData request the SDK would send, except that timestamps are RFC 3339
// strings: kumo refuses the SDK's CBOR time tag and would otherwise stamp the datapoint with its
// own clock (see the package doc).
func KumoSink(url string, client *http.Client) Sink {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	endpoint := strings.TrimRight(url, "/") + "/service/GraniteServiceVersion20100801/operation/PutMetricData"
	return SinkFunc(func(ctx context.Context, namespace string, data []Datum) error {
		// CloudWatch accepts up to 1000 datums per request; the publisher sends far fewer.
		body := cborEncode(map[string]any{"Namespace": namespace, "MetricData": datums(data)})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/cbor")
		req.Header.Set("Accept", "application/cbor")
		req.Header.Set("smithy-protocol", "rpc-v2-cbor")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("albmetrics: put metric data: %w", err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("albmetrics: put metric data: HTTP %d: %q", resp.StatusCode, msg)
		}
		return nil
	})
}

func datums(data []Datum) []any {
	out := make([]any, 0, len(data))
	for _, d := range data {
		dims := make([]any, 0, len(d.Dimensions))
		for _, dim := range d.Dimensions {
			dims = append(dims, map[string]any{"Name": dim.Name, "Value": dim.Value})
		}
		m := map[string]any{
			"MetricName": d.MetricName,
			"Dimensions": dims,
			"Timestamp":  d.Timestamp.UTC().Format(time.RFC3339Nano),
		}
		if d.Stats != nil {
			m["StatisticValues"] = map[string]any{"SampleCount": d.Stats.SampleCount, "Sum": d.Stats.Sum,
				"Minimum": d.Stats.Minimum, "Maximum": d.Stats.Maximum}
		} else {
			m["Value"] = d.Value
		}
		if d.Unit != "" {
			m["Unit"] = d.Unit
		}
		if d.StorageResolution != 0 {
			m["StorageResolution"] = d.StorageResolution
		}
		out = append(out, m)
	}
	return out
}
