package alarmeval

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Point is one raw datapoint as stored.
type Point struct {
	Time  time.Time
	Value float64
}

// Fold groups points into the n periods of length period that end at end (oldest first) and
// applies the statistic: Sum, Average, Minimum, Maximum, SampleCount or pNN (pNN.N).
func Fold(points []Point, stat string, end time.Time, period time.Duration, n int) ([]Slot, error) {
	start := end.Add(-time.Duration(n) * period)
	byslot := make([][]float64, n)
	for _, p := range points {
		if p.Time.Before(start) || !p.Time.Before(end) {
			continue
		}
		i := int(p.Time.Sub(start) / period)
		byslot[i] = append(byslot[i], p.Value)
	}
	out := make([]Slot, n)
	for i, vs := range byslot {
		out[i] = Slot{Start: start.Add(time.Duration(i) * period), Missing: len(vs) == 0}
		if len(vs) == 0 {
			continue
		}
		v, err := statistic(stat, vs)
		if err != nil {
			return nil, err
		}
		out[i].Value = v
	}
	return out, nil
}

func statistic(stat string, vs []float64) (float64, error) {
	switch stat {
	case "Sum", "Average":
		var s float64
		for _, v := range vs {
			s += v
		}
		if stat == "Average" {
			s /= float64(len(vs))
		}
		return s, nil
	case "Minimum", "Maximum":
		m := vs[0]
		for _, v := range vs[1:] {
			if (stat == "Minimum") == (v < m) {
				m = v
			}
		}
		return m, nil
	case "SampleCount":
		return float64(len(vs)), nil
	}
	if p, ok := strings.CutPrefix(stat, "p"); ok {
		q, err := strconv.ParseFloat(p, 64)
		if err == nil && q >= 0 && q <= 100 {
			s := append([]float64(nil), vs...)
			sort.Float64s(s)
			// nearest rank
			k := int(math.Ceil(q/100*float64(len(s)))) - 1
			return s[max(k, 0)], nil
		}
	}
	return 0, fmt.Errorf("alarmeval: statistic %q is not evaluated", stat)
}
