// The system Zstandard library (libzstd-dev), imported as the CZstd module, for the store's
// compressed sample blocks (Sources/TelemetryStore/SampleCodec.swift, block format version 3).
// ZSTD_STATIC_LINKING_ONLY exposes the static-workspace API (ZSTD_initStaticCCtx/DCtx and the
// size estimates), so the codec allocates its contexts once, at start-up, and never again;
// Debian's libzstd.so exports those symbols.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

// Parameters the header names only through macros (aliases of experimental enum cases), which
// Swift does not import.
static const ZSTD_cParameter skygate_zstd_c_format = ZSTD_c_format;
static const ZSTD_dParameter skygate_zstd_d_format = ZSTD_d_format;
