#!/usr/bin/env bash
# Builds the Skygate OCI image FROM scratch, offline, with buildah (no daemon).
#
#   Scripts/build-image.sh [--archive FILE] [--no-build] [--keep-debug] [--smoke-test]
#
# 1. swift build -c release --static-swift-stdlib --scratch-path .build-static
#    (the Swift runtime linked in; glibc, libsqlite3, libz, libzstd and the C++ runtime
#    stay shared system libraries);
# 2. a root filesystem of the binary (debug info stripped unless --keep-debug;
#    --no-build uses the binary already in .build-static), exactly the libraries `ldd` lists, the
#    dynamic loader, Debian's CA bundle (/etc/ssl/certs/ca-certificates.crt, from the
#    ca-certificates package: TLS to PostgreSQL and to webhook receivers verifies against it
#    unless --db-ca-file names another CA), and two empty mount points (/etc/skygate,
#    /var/lib/skygate);
# 3. buildah commits it as localhost/skygate:<git short sha> and :latest
#    (user 65532:65532, ENTRYPOINT /skygate, CMD serve --config ...);
# 4. with --archive FILE, also pushes it to oci-archive:FILE;
# 5. with --smoke-test, runs the image's root filesystem read-only as 65532
#    (chroot in a private mount namespace, tmpfs on /var/lib/skygate), checks
#    /healthz and /readyz, then SIGTERMs it and expects exit 0.
# Prints the binary size and the image size. Runs as root (buildah with the vfs
# storage driver and chroot isolation); installs buildah from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

archive=""
build=1
strip_debug=1
smoke=0
while [ $# -gt 0 ]; do
    case "$1" in
        --archive) archive=${2:?--archive needs a FILE}; shift 2 ;;
        --no-build) build=0; shift ;;
        --keep-debug) strip_debug=0; shift ;;
        --smoke-test) smoke=1; shift ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

if ! command -v buildah >/dev/null; then
    echo "installing buildah (Debian package)"
    apt-get install -y -q buildah >/dev/null
fi
export BUILDAH_ISOLATION=chroot
bah() { buildah --storage-driver vfs "$@"; }

scratch=.build-static
binary=$scratch/release/skygate
if [ "$build" = 1 ]; then
    swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product skygate
fi
[ -x "$binary" ] || { echo "no $binary (build it, or drop --no-build)" >&2; exit 1; }

revision=$(git rev-parse HEAD)
short=$(git rev-parse --short HEAD)
if ! git diff --quiet HEAD -- Sources Package.swift 2>/dev/null; then
    echo "warning: Sources or Package.swift differ from $short; the image is tagged $short all the same" >&2
fi
source_url=${IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || echo "https://example.invalid/skygate")}

# The root filesystem.
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
# DWARF debug info out (the symbol table stays, so crash backtraces keep
# function names); --keep-debug copies the binary as built.
if [ "$strip_debug" = 1 ]; then
    strip --strip-debug -o "$rootfs/skygate" "$binary"
    chmod 0555 "$rootfs/skygate"
else
    install -m 0555 "$binary" "$rootfs/skygate"
fi
# Every library `ldd` resolves to a path ('name => /path (addr)' or '/path (addr)'),
# copied as a file (symlinks followed) to the same path in the image.
ldd "$binary" | awk '/=>/ { if ($3 ~ /^\//) print $3; next } $1 ~ /^\// { print $1 }' | sort -u |
    while read -r lib; do
        mkdir -p "$rootfs$(dirname "$lib")"
        cp -L "$lib" "$rootfs$lib"
    done
# The loader the binary names (PT_INTERP), in case ldd printed it under another path.
interp=$(readelf -l "$binary" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
if [ -n "$interp" ] && [ ! -e "$rootfs$interp" ]; then
    mkdir -p "$rootfs$(dirname "$interp")"
    cp -L "$interp" "$rootfs$interp"
fi
# The CA bundle, where NIOSSL and OpenSSL-style clients look first on Debian-like systems.
ca_bundle=/etc/ssl/certs/ca-certificates.crt
if [ ! -s "$ca_bundle" ]; then
    echo "installing Debian's ca-certificates for the image's CA bundle"
    apt-get install -y -q ca-certificates >/dev/null
fi
install -d -m 0755 "$rootfs/etc/ssl/certs"
install -m 0444 "$ca_bundle" "$rootfs$ca_bundle"
# Mount points: the config (ConfigMap) and the writable state (a volume).
install -d -m 0755 "$rootfs/etc/skygate"
install -d -m 0755 "$rootfs/var/lib"

echo "image contents:"
(cd "$rootfs" && find . -type f -printf '  /%P  %s bytes\n' | sort)

ctr=$(bah from --quiet scratch)
cleanup() { bah rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$rootfs"; }
trap cleanup EXIT
bah copy --quiet "$ctr" "$rootfs/" /
# buildah copy makes everything root's; the state directory belongs to 65532.
mkdir -p "$rootfs.state/skygate"
bah copy --quiet --chown 65532:65532 --chmod 0750 "$ctr" "$rootfs.state/" /var/lib/
rm -rf "$rootfs.state"
bah config \
    --user 65532:65532 \
    --entrypoint '["/skygate"]' \
    --cmd 'serve --config /etc/skygate/skygate.conf' \
    --port 14550/udp --port 8080/tcp \
    --workingdir /var/lib/skygate \
    --label org.opencontainers.image.title=skygate \
    --label org.opencontainers.image.source="$source_url" \
    --label org.opencontainers.image.revision="$revision" \
    "$ctr"
bah config --created-by "Scripts/build-image.sh" "$ctr"
bah commit --quiet --format oci --rm \
    --timestamp "$(git log -1 --format=%ct)" \
    "$ctr" "localhost/skygate:$short" >/dev/null
trap 'rm -rf "$rootfs"' EXIT
bah tag "localhost/skygate:$short" localhost/skygate:latest

if [ -n "$archive" ]; then
    rm -f "$archive"
    bah push --quiet "localhost/skygate:$short" "oci-archive:$archive:localhost/skygate:$short"
    echo "archive: $archive ($(stat -c %s "$archive") bytes; load with 'podman load -i $archive')"
fi

echo "binary: $binary $(stat -c %s "$binary") bytes as built, $(stat -c %s "$rootfs/skygate") bytes in the image"
bah images --format '{{.Name}}:{{.Tag}} {{.ID}} {{.Size}}' localhost/skygate | sed 's/^/image: /'

if [ "$smoke" = 1 ]; then
    # podman cannot run containers in every sandbox (no cgroup controllers, no
    # setrlimit); this needs only root and mount namespaces. It adds what a
    # container runtime adds: /proc and /dev mount points in the container's
    # writable layer (the Swift runtime reads its arguments from /proc).
    ctr=$(bah from --quiet "localhost/skygate:$short")
    mnt=$(bah mount "$ctr")
    trap 'bah umount "$ctr" >/dev/null 2>&1; bah rm "$ctr" >/dev/null 2>&1; rm -rf "$rootfs" "$smoke_dir"' EXIT
    mkdir -p "$mnt/proc" "$mnt/dev"
    smoke_dir=$(mktemp -d)
    mkdir -p "$smoke_dir/root" "$smoke_dir/conf"
    printf 'stale-after = 5\n' > "$smoke_dir/conf/skygate.conf"
    http=127.0.0.1:${SMOKE_HTTP_PORT:-18080}
    unshare -m --propagation private sh -c '
        set -e
        r=$2/root
        mount --bind "$1" "$r"
        mount -t tmpfs -o uid=65532,gid=65532,mode=0750,size=64m tmpfs "$r/var/lib/skygate"
        mount --bind "$2/conf" "$r/etc/skygate"
        mount -t proc proc "$r/proc"
        mount --rbind /dev "$r/dev"
        mount -o remount,bind,ro "$r"
        exec chroot --userspec=65532:65532 "$r" /skygate serve --config /etc/skygate/skygate.conf \
            --db /var/lib/skygate/skygate.db --http "$3" --udp "$4"' \
        smoke "$mnt" "$smoke_dir" "$http" "127.0.0.1:${SMOKE_UDP_PORT:-14650}" > "$smoke_dir/serve.log" 2>&1 &
    spid=$!
    ok=0
    for _ in $(seq 100); do
        if curl -sf "http://$http/readyz" >/dev/null && curl -sf "http://$http/healthz" >/dev/null; then ok=1; break; fi
        sleep 0.1
    done
    kill -TERM "$spid" 2>/dev/null || true
    # unshare execs sh, which execs chroot, which execs skygate: the same pid.
    rc=0; wait "$spid" || rc=$?
    if [ "$ok" = 1 ] && [ "$rc" = 0 ]; then
        echo "smoke test: /healthz and /readyz answered; SIGTERM -> exit 0 (read-only root, user 65532)"
    else
        echo "smoke test FAILED (probes ok=$ok, exit $rc):" >&2
        cat "$smoke_dir/serve.log" >&2
        exit 1
    fi
fi
