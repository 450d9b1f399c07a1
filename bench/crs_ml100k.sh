#!/bin/bash
set -euo pipefail
export OMP_NUM_THREADS=2 HF_HUB_OFFLINE=1
C=.venv/bin/ctrlrec
R=runs/crs-ml-100k
T=runs/pipeline-ml-100k/teacher
mkdir -p $R
s() { echo "=== $(date +%T) $*"; }
s simulate; /usr/bin/time -f "%e s" $C crs simulate --dataset ml-100k --n 2000 --turns 3 --teacher $T --out $R/sim.jsonl --sft-out $R/sft.jsonl
s sft; /usr/bin/time -f "%e s" $C crs sft $R/sft.jsonl --out $R/sft --config configs/crs-sft-ml100k-cpu.toml
s rm; /usr/bin/time -f "%e s" $C crs rm train $R/sim.jsonl --model $R/sft --out $R/rm --steps 120 --batch-pairs 4 --max-length 320 --threads 2
s rl; /usr/bin/time -f "%e s" $C crs rl --config configs/crs-rl-ml100k-cpu.toml --sft $R/sft --rm $R/rm --out $R/rl
s eval; /usr/bin/time -f "%e s" $C crs eval --dataset ml-100k --n 200 --turns 3 --teacher $T --threads 2 --model sft=$R/sft --model rlhf=$R/rl --out $R/eval
s plot; $C rl plot $R/rl
s done
