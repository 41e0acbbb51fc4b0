// Package logging builds switchyard's one zap logger from the configuration and derives the
// per-deployment loggers used by the controller, so that every line about a deployment is searchable by id.
package logging

import (
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// New builds the daemon's logger writing to stderr. Call it once at start-up and pass the logger down;
// nothing in switchyard uses zap's global logger.
func New(c config.Log) (*zap.Logger, error) {
	return NewWriter(c, os.Stderr)
}

// NewWriter is New with an explicit destination (tests, or a log file).
func NewWriter(c config.Log, w io.Writer) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(orDefault(c.Level, "info"))
	if err != nil {
		return nil, fmt.Errorf("logging: level %q: %w", c.Level, err)
	}
	var enc zapcore.Encoder
	switch orDefault(c.Format, "json") {
	case "json":
		ec := zap.NewProductionEncoderConfig()
		ec.TimeKey = "time"
		ec.EncodeTime = zapcore.RFC3339NanoTimeEncoder
		ec.EncodeDuration = zapcore.StringDurationEncoder
		enc = zapcore.NewJSONEncoder(ec)
	case "console":
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeTime = zapcore.RFC3339TimeEncoder
		ec.EncodeDuration = zapcore.StringDurationEncoder
		enc = zapcore.NewConsoleEncoder(ec)
	default:
		return nil, fmt.Errorf("logging: format %q must be json or console", c.Format)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), zap.NewAtomicLevelAt(level))
	// Stack traces only for errors: warnings about retried AWS calls are routine and a stack adds noise.
	return zap.New(core, zap.AddCaller(), zap.AddStacktrace(zapcore.ErrorLevel)), nil
}

// ForDeployment returns l with the deployment's id, service, current step index and state attached. A nil
// deployment returns l unchanged; a nil logger gives a no-op logger so callers need no nil checks.
func ForDeployment(l *zap.Logger, d *deploy.Deployment) *zap.Logger {
	if l == nil {
		l = zap.NewNop()
	}
	if d == nil {
		return l
	}
	return l.With(zap.String("deployment_id", d.ID), zap.String("service", d.Service), zap.Int("step", d.Step), zap.String("state", string(d.State)))
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
