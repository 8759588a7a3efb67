# The operator's image for people who have Docker. `make image` builds the same
# image without a container engine (hack/imagebuild): one static binary at
# /ida-operator, run as the numeric user 65532:65532.
#
#   docker build -t ghcr.io/idaop/ida-operator:dev .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=linux GOARCH=${TARGETARCH} go build -trimpath -o /out/ida-operator .

# distroless "static" adds CA certificates and time zones to the empty base of
# `make image`; nothing else, no shell.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=
LABEL org.opencontainers.image.source=https://github.com/idaop/ida-operator \
      org.opencontainers.image.version=${VERSION} \
      org.opencontainers.image.revision=${REVISION} \
      org.opencontainers.image.title=ida-operator
COPY --from=build /out/ida-operator /ida-operator
USER 65532:65532
WORKDIR /
ENTRYPOINT ["/ida-operator"]
