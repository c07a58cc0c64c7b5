# townhall in a container: one static binary on distroless, run as a non-root user.
#
#   docker build -t townhall .
#   docker run --rm -p 8080:8080 -p 7882:7882/udp -p 7881:7881/tcp townhall serve --public-ip 203.0.113.7
#
# deploy/compose.yaml runs a cluster of these (README, "Running a cluster").
#
# The image has no shell, so it has no HEALTHCHECK: probe the HTTP endpoints instead,
# GET /healthz (the process answers) and GET /readyz (its store, and in a cluster
# NATS, answer). The reverse proxy of deploy/Caddyfile does so with /readyz.

FROM golang:1.26 AS build
# go.mod asks for go 1.26.8. The golang images set GOTOOLCHAIN=local; with auto, an
# older golang:1.26 (a stale local copy) fetches go1.26.8 instead of failing.
ENV GOTOOLCHAIN=auto
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version that `townhall version` prints (-X main.version).
ARG VERSION=dev
# CGO_ENABLED=0: a static binary (SQLite is modernc.org/sqlite, pure Go), which
# distroless/static can run. No VCS stamp: .git is not in the build context.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w -X main.version=${VERSION}" \
	-o /out/townhall ./cmd/townhall \
	&& mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/townhall /usr/local/bin/townhall
# The data folder (SQLite on one node; certificates with --domain), owned by the
# image's non-root user (nonroot, 65532).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV TOWNHALL_DATA=/data \
	TOWNHALL_ADDR=:8080
VOLUME /data
# HTTP (the API, the web app and the room sockets), then the media server: the one
# UDP port of every audio connection and the ICE-TCP port (--rtc-udp-port,
# --rtc-tcp-port). Media cannot go through an HTTP proxy: publish these ports as
# they are and set --public-ip.
EXPOSE 8080/tcp 7882/udp 7881/tcp
ENTRYPOINT ["/usr/local/bin/townhall"]
CMD ["serve"]
