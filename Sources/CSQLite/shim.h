// The system SQLite (libsqlite3-dev), imported as the CSQLite module. Nothing is wrapped here:
// the store binds the C API directly. SQLITE_STATIC and SQLITE_TRANSIENT are macros Swift cannot
// import; the store only binds integers, so it needs neither.
#include <sqlite3.h>
