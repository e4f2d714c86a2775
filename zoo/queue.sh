#!/usr/bin/env bash
# Train zoo models in the background, N at a time, one thread each, exporting each when it stops:
#   zoo/queue.sh N NAME[:STEPS] [NAME[:STEPS] ...]
# (each `python zoo/build.py train NAME` resumes from its checkpoint if there is one; NAME:STEPS stops early at
#  STEPS for a provisional export; logs in zoo/runs/NAME.log, one line per finished job in zoo/runs/queue.log)
cd "$(dirname "$0")/.."
n=$1; shift
printf '%s\n' "$@" | OMP_NUM_THREADS=1 xargs -P "$n" -I{} sh -c 'm=$(echo {} | cut -d: -f1);
  python zoo/build.py train {} >> zoo/runs/$m.log 2>&1 && python zoo/build.py export $m >> zoo/runs/export-$m.log 2>&1;
  echo "{} exit $? $(date +%H:%M)" >> zoo/runs/queue.log'
