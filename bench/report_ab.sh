#!/bin/bash
# `kb report` (build_report + write_report, each in a new process) of two checkouts on copies
# of one analytics store, first (cold: embedding cache emptied) then next report, interleaved
# so that a busy machine's load hits both alike. Prints one JSON line per run: wall s, CPU s of the
# process (user + system) and of its main thread (the report's other threads run beside it).
#
#   bench/report_ab.sh /work/main /work/wt/analytics /tmp/kb-1m.db.1000000
#
# The store: `bench/bench_analytics.py --backends sqlite --skip-ingest --keep /tmp/kb-1m.db`
# leaves one at /tmp/kb-1m.db.1000000 (a million events of demo traffic).
set -euo pipefail
base=$(realpath "$1"); head=$(realpath "$2"); store=$3
work=$(mktemp -d /tmp/kb-report-ab-XXXXXX); trap 'rm -rf "$work"' EXIT
# KEEP=DIR keeps the four reports' folders there (out-base-first, out-head-next, ...) to compare them.
keep=${KEEP:-}
PY=${PY:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python}
# python -P: the current folder is not put before PYTHONPATH, so each checkout runs its own code
# even when the script is started from inside a checkout.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
CODE='import time,sys,json,resource;t=time.perf_counter();c=time.thread_time()
from kb_tools.analytics.store import EventStore;from kb_tools.analytics.metrics import build_report
from kb_tools.analytics.report import write_report;from pathlib import Path
s=EventStore(sys.argv[1]);r=build_report(s);write_report(r,Path(sys.argv[2]))
ru=resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall":round(time.perf_counter()-t,1),"cpu":round(ru.ru_utime+ru.ru_stime,1),
                  "main_thread_cpu":round(time.thread_time()-c,1),"gaps":len(r.gaps),
                  "torch":"torch" in sys.modules,
                  "video_change":[i.change_pct for i in r.items if i.kind=="video"][0]}))'
for rev in base head; do
  cp "$store" "$work/$rev.db"
  # Open once outside the timing: a newer checkout migrates the store (indexes) here.
  PYTHONPATH=${!rev} "$PY" -P -c 'import sys;from kb_tools.analytics.store import EventStore;EventStore(sys.argv[1]).close()' "sqlite:///$work/$rev.db"
  sqlite3 "$work/$rev.db" "DELETE FROM query_vectors; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
done
for run in first next; do
  for rev in base head; do
    out=$(PYTHONPATH=${!rev} "$PY" -P -c "$CODE" "sqlite:///$work/$rev.db" "$work/out-$rev-$run" | tail -1)
    echo "{\"run\":\"$run\",\"rev\":\"$rev\",\"load\":$(cut -d' ' -f1 /proc/loadavg),\"report\":$out}"
  done
done
if [ -n "$keep" ]; then mkdir -p "$keep" && cp -r "$work"/out-* "$keep"/; fi
