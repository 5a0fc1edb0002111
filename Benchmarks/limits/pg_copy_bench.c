/* The C limit for the PostgreSQL store: libpq COPY (text format) of telemetry rows in the
 * Skygate schema (docs/storage.md, "PostgreSQL"), one transaction per batch, as the gateway's
 * writer does. Rows are generated like the simulator's: DRONES drones interleaved, 20 ms apart.
 *
 *   pg_copy_bench CONNINFO ROWS BATCH DRONES INDEX     INDEX: btree (the primary key) | brin
 *
 * Prints rows/s. Build: gcc -O2 -o pg_copy_bench pg_copy_bench.c -lpq (libpq-dev).
 * Used by Scripts/measure-postgres.sh; the table is dropped and created anew. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check(PGconn *c, PGresult *r, ExecStatusType want, const char *what) {
    if (PQresultStatus(r) != want) { fprintf(stderr, "%s: %s", what, PQerrorMessage(c)); exit(1); }
    PQclear(r);
}
static void run(PGconn *c, const char *sql) { check(c, PQexec(c, sql), PGRES_COMMAND_OK, sql); }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: %s CONNINFO ROWS BATCH DRONES btree|brin\n", argv[0]); return 2; }
    long rows = atol(argv[2]), batch = atol(argv[3]), drones = atol(argv[4]);
    int brin = strcmp(argv[5], "brin") == 0;
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) { fprintf(stderr, "%s", PQerrorMessage(c)); return 1; }
    run(c, "DROP TABLE IF EXISTS limit_telemetry");
    char ddl[1024];
    snprintf(ddl, sizeof ddl,
        "CREATE TABLE limit_telemetry (protocol smallint NOT NULL, drone bigint NOT NULL, time_us bigint NOT NULL,"
        " sequence bigint NOT NULL, latitude_e7 integer NOT NULL, longitude_e7 integer NOT NULL, altitude_mm integer NOT NULL,"
        " velocity_north_cms smallint NOT NULL, velocity_east_cms smallint NOT NULL, velocity_down_cms smallint NOT NULL,"
        " heading_cdeg integer NOT NULL, battery_mv integer NOT NULL, battery_pct smallint NOT NULL, satellites smallint NOT NULL,"
        " status bigint NOT NULL, stored_us bigint NOT NULL%s) PARTITION BY RANGE (time_us)",
        brin ? "" : ", PRIMARY KEY (protocol, drone, time_us, sequence)");
    run(c, ddl);
    run(c, "CREATE TABLE limit_telemetry_p PARTITION OF limit_telemetry FOR VALUES FROM (0) TO (9000000000000000000)");
    if (brin) run(c, "CREATE INDEX ON limit_telemetry USING brin (time_us)");
    char *buffer = malloc((size_t)batch * 200);
    const long long base = 1767225600000000LL;
    long done = 0;
    double start = now();
    while (done < rows) {
        long n = rows - done < batch ? rows - done : batch;
        size_t used = 0;
        for (long i = 0; i < n; i++) {
            long row = done + i, drone = row % drones + 1, index = row / drones;
            used += (size_t)sprintf(buffer + used, "1\t%ld\t%lld\t%ld\t%ld\t%ld\t%ld\t%d\t%d\t-5\t%ld\t%d\t%d\t%d\t%ld\t%lld\n",
                drone, base + index * 20000LL + drone, index, 473977000 + drone * 1000 + index, -85456000 - drone * 7 - index,
                450000 + index * 3, (int)(index % 300) - 150, -(int)(drone % 100), (drone * 100 + index) % 36000,
                16400 - (int)(index % 400), 90 - (int)(index % 50), (int)(drone % 20), index % 8, base);
        }
        run(c, "BEGIN");
        check(c, PQexec(c, "COPY limit_telemetry FROM STDIN"), PGRES_COPY_IN, "COPY");
        if (PQputCopyData(c, buffer, (int)used) != 1 || PQputCopyEnd(c, NULL) != 1) { fprintf(stderr, "%s", PQerrorMessage(c)); return 1; }
        check(c, PQgetResult(c), PGRES_COMMAND_OK, "COPY end");
        run(c, "COMMIT");
        done += n;
    }
    double seconds = now() - start;
    printf("pg_copy %s batch %ld: %ld rows in %.3f s = %.0f rows/s\n", argv[5], batch, rows, seconds, rows / seconds);
    run(c, "DROP TABLE limit_telemetry");
    PQfinish(c);
    return 0;
}
