#!/bin/bash
# Alternates pvbench runs of the tree before (build-base/, main at c775bc9)
# and after (build/) the change, N times per guest driver:
#   ab.sh OUTDIR N            (WL=submit,pipeline by default; GUESTS="22 25")
# Each run: --paths native,pearvisor --repeat 5 --no-plot, into
# OUTDIR/{base,new}-{22,25}-I/. summary.py OUTDIR... prints the table.
set -u
out=$1
n=$2
for i in $(seq 1 "$n"); do
   for b in base new; do
      bin=build-base
      [ "$b" = new ] && bin=build
      for g in ${GUESTS:-22 25}; do
         icd=()
         [ "$g" = 25 ] && icd=(--icd .cache/mesa25-icd/virtio_icd.x86_64.json --wire-format 1)
         "$bin/bench/pvbench" --pv-vtest "$bin/src/vtest/pv-vtest" "${icd[@]}" \
            --paths native,pearvisor --workloads "${WL:-submit,pipeline}" --repeat 5 --no-plot \
            --out "$out/$b-$g-$i" >/dev/null 2>&1
      done
   done
done
