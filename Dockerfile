# syntax=docker/dockerfile:1
# Multi-stage build of the switchyard daemon and CLI: a static, non-root image with nothing but the binary
# and CA certificates. SQLite is pure Go (modernc.org/sqlite), so CGO stays off.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY pkg ./pkg
RUN CGO_ENABLED=0 GOFLAGS=-trimpath go build -ldflags "-s -w" -o /out/switchyard ./cmd/switchyard \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/switchyard /usr/local/bin/switchyard
COPY --from=build --chown=65532:65532 /out/data /var/lib/switchyard
COPY configs/switchyard.example.yaml /etc/switchyard/switchyard.example.yaml
USER 65532:65532
EXPOSE 8080
VOLUME ["/var/lib/switchyard"]
ENTRYPOINT ["/usr/local/bin/switchyard"]
CMD ["serve", "--config", "/etc/switchyard/switchyard.yaml"]
