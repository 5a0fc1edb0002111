// The system zlib (zlib1g-dev), imported as the CZlib module, for the flight recording format's
// compressed chunks and CRC-32. deflateInit and inflateInit are macros Swift cannot import: call
// deflateInit_(&stream, level, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) instead.
#include <zlib.h>
