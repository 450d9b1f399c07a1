#!/bin/bash
# The conversational-recommendation run of docs/results.md ('Conversational recommendation (crs) on
# ml-100k': the evaluation table and the reward-model and PPO rows), from a fresh clone: data, the
# SASRec teacher baseline, simulated dialogues, SFT, reward model, PPO, eval.
# Every stage resumes or is skipped when complete, so the same command continues a killed run.
# Lengths are settable: RM_STEPS (reward-model steps), RL_STEPS and RL_BUDGET (PPO steps, minutes),
# MODES (decoding modes evaluated for the LLM recommenders: "free", "catalog" or both), ANNOTATE
# (a dataset: the reward model reads each title's categories; default titles only).
set -euo pipefail
export OMP_NUM_THREADS=2 HF_HUB_OFFLINE=1
C=.venv/bin/ctrlrec
R=${R:-runs/crs-ml-100k}
T=runs/pipeline-ml-100k/teacher
RM_STEPS=${RM_STEPS:-200}
RL_STEPS=${RL_STEPS:-10}
RL_BUDGET=${RL_BUDGET:-24}
ANNOTATE=${ANNOTATE:-}
MODES=${MODES:-free}
mkdir -p $R
s() { echo "=== $(date +%T) $*"; }
t() { /usr/bin/time -f "%e s" "$@"; }
s data; t $C data fetch ml-100k; t $C data prepare ml-100k
if [ ! -f $T/metrics.json ]; then  # the teacher of configs/ml-100k.toml; resumes a killed run
  s teacher; t $C teacher train --dataset ml-100k --out $T --epochs 150 --patience 20 \
    $([ -d $T/checkpoint ] && echo --resume)
fi
s simulate; t $C crs simulate --dataset ml-100k --n 2000 --turns 3 --teacher $T --out $R/sim.jsonl --sft-out $R/sft.jsonl
s sft; t $C crs sft $R/sft.jsonl --out $R/sft --config configs/crs-sft-ml100k-cpu.toml
s rm; t $C crs rm train $R/sim.jsonl --model $R/sft --out $R/rm --steps $RM_STEPS --batch-pairs 4 --max-length 320 --threads 2 \
  ${ANNOTATE:+--annotate $ANNOTATE}
s rl; t $C crs rl --config configs/crs-rl-ml100k-cpu.toml --sft $R/sft --rm $R/rm --out $R/rl --steps $RL_STEPS --time-budget $RL_BUDGET
s plot; $C rl plot $R/rl
for m in $MODES; do
  s eval $m; t $C crs eval --dataset ml-100k --n 200 --turns 3 --teacher $T --threads 2 --mode $m \
    --model sft=$R/sft --model rlhf=$R/rl --out $R/eval-$m
done
s done
