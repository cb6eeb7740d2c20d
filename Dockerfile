# A container image that holds only the static (musl) helper, for CI
# pipelines that copy it into their own images:
#
#   COPY --from=ghcr.io/atcr-io/docker-credential-atcr:1 /usr/local/bin/docker-credential-atcr /usr/local/bin/
#
# The build context is the directory that scripts/release/stage-image.sh
# fills from the release archives: linux/<amd64|arm64>/docker-credential-atcr.
# The release workflow builds it for linux/amd64 and linux/arm64 with buildx,
# which sets TARGETARCH per platform.
FROM scratch
ARG TARGETARCH
COPY --chmod=755 linux/${TARGETARCH}/docker-credential-atcr /usr/local/bin/docker-credential-atcr
ENTRYPOINT ["/usr/local/bin/docker-credential-atcr"]
CMD ["version"]
