#!/usr/bin/env bash
# Train zoo models in the background, N at a time, one thread each: zoo/queue.sh N NAME [NAME ...]
# (each `python zoo/build.py train NAME` resumes from its checkpoint if there is one; logs in zoo/runs/NAME.log)
cd "$(dirname "$0")/.."
n=$1; shift
printf '%s\n' "$@" | OMP_NUM_THREADS=1 xargs -P "$n" -I{} sh -c 'python zoo/build.py train {} >> zoo/runs/{}.log 2>&1; echo "{} exit $?" >> zoo/runs/queue.log'
