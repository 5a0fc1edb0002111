# Sourced by the measurement scripts that run `skygate bench --http 127.0.0.1:0` in the background.
# bench_url ERRFILE PID: waits (at most 10 s) for the bench to print its status page's URL on
# standard error and prints it; on time-out it shows the bench's errors, stops it and exits 1.
bench_url() {
  local errors=$1 bench=$2 url=""
  for _ in $(seq 1 100); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$errors" | head -1 || true)
    [ -n "$url" ] && { echo "$url"; return; }
    sleep 0.1
  done
  echo "bench did not report its HTTP port" >&2
  cat "$errors" >&2
  kill "$bench"
  exit 1
}
