package albmetrics

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
)

// cborEncode encodes the few shapes a PutMetricData request needs (RFC 8949): maps with string
// keys, arrays, strings, ints and float64. A hand-written encoder keeps the test world off the
// emulator's own dependencies.
func cborEncode(v any) []byte { return cborAppend(nil, v) }

func cborHead(b []byte, major byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(b, major<<5|byte(n))
	case n <= math.MaxUint8:
		return append(b, major<<5|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, major<<5|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, major<<5|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, major<<5|27), n)
	}
}

func cborAppend(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(cborHead(b, 3, uint64(len(x))), x...)
	case int:
		if x < 0 {
			return cborHead(b, 1, uint64(-1-x))
		}
		return cborHead(b, 0, uint64(x))
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 7<<5|27), math.Float64bits(x))
	case []any:
		b = cborHead(b, 4, uint64(len(x)))
		for _, e := range x {
			b = cborAppend(b, e)
		}
		return b
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = cborHead(b, 5, uint64(len(keys)))
		for _, k := range keys {
			b = cborAppend(cborAppend(b, k), x[k])
		}
		return b
	default:
		panic(fmt.Sprintf("albmetrics: cannot encode %T as CBOR", v))
	}
}
