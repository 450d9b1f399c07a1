#!/bin/bash
# RecLM's ablation on ml-100k (docs/profiles.md): tune, refine, build, then `cf compare`, one split
# at a time, at the CPU scale of docs/results.md (tuning on the first 200 users, best-of-2, user
# profiles only). Produces docs/results.md, 'User profiles', the at-a-glance table (every row).
# Every step resumes or reads its cache, so a stopped run is simply started again.
#   bash bench/profiles_ablation.sh random        # then: cold-item
# CF=... names the split's LightGCN run (neighbours); MODELS=... the CF models compared, each over
# the training seeds SEEDS (default 2024,2025,2026; the table gives mean ± std);
# RL=0 skips the RL refinement and its build; RL_STEPS=... its PPO steps, and RL_BUDGET (minutes),
# RL_USERS (tuning users, 200), RL_PROMPTS (users per step), RL_EPOCHS (PPO epochs), RL_LR fit it to
# the time a CPU has (`profiles rl --help`; results.md gives a CPU run's figures). BUILDS=... names the tuned
# models built before RL (default "single two-round"; BUILDS="" when a split's earlier columns are
# already in docs/results.md and only the RL column is wanted: ~1.5 h less here). The comparison has
# a column for every build that exists, so it can be run before the RL column is there.
# After the RL build, a control column gives every user that build's most common profile
# (bench/constant_profiles.py): what a nearly constant user side vector does by itself.
# A second control gives every user its data-written profile (bench/data_profiles.py, no LLM):
# the targets the CPU-scale tuning imitates.
# SSL_WARMUP=10 gives SGL and SimGCL the contrastive warm-up they need on ml-100k (SimGCL stalls
# without it, docs/results.md); such runs go to their own folder, OUT (default
# runs/cf-ablation-ml-100k; `cf compare` refuses a folder whose runs have other settings).
set -euo pipefail
S=${1:?usage: bench/profiles_ablation.sh random|cold-item}
export OMP_NUM_THREADS=2 HF_HUB_OFFLINE=1
C=.venv/bin/ctrlrec
CF=${CF:-runs/cf-ablation-ml-100k/$S-lightgcn-none}
MODELS=${MODELS:-biasmf,lightgcn}
P=runs/prof-train-$S
common=(--dataset ml-100k --split "$S" --seed 2024 --cf-run "$CF" --threads 2)
s() { echo "=== $(date +%T) $*"; }
done_() { [ -f "$1/manifest.json" ]; }

s "cf lightgcn ($S)"
done_ "$CF" || $C cf train --dataset ml-100k --model lightgcn --split "$S" --side none --batch-size 4096 \
    --lr 0.01 --epochs 100 --patience 5 --seed 2024 --threads 1 --device cpu --out "$CF"
s "profiles train ($S)"
done_ "$P" || $C profiles train "${common[@]}" --users 200 --best-of 2 --eval-share 0.2 --out "$P"
for m in ${BUILDS-single two-round}; do
    s "build $m ($S)"
    done_ "runs/prof-$m-$S" || $C profiles build "${common[@]}" --model "$P/$m" --no-item-profiles \
        --out "runs/prof-$m-$S"
done
if [ "${RL:-1}" != 0 ]; then
    s "profiles rl ($S)"
    done_ "runs/prof-rl-$S" || $C profiles rl "${common[@]}" --tuned "$P/two-round" --train-run "$P" \
        --users "${RL_USERS:-200}" --steps "${RL_STEPS:-50}" --prompts-per-step "${RL_PROMPTS:-8}" \
        --ppo-epochs "${RL_EPOCHS:-4}" --learning-rate "${RL_LR:-1e-5}" \
        ${RL_BUDGET:+--time-budget-min "$RL_BUDGET"} --out "runs/prof-rl-$S"
    s "build rl ($S)"
    done_ "runs/prof-rl-build-$S" || $C profiles build "${common[@]}" --model "runs/prof-rl-$S" \
        --no-item-profiles --out "runs/prof-rl-build-$S"
fi
if done_ "runs/prof-rl-build-$S" && ! done_ "runs/prof-const-$S"; then
    s "constant control ($S): the RL build's most common profile for every user"
    .venv/bin/python bench/constant_profiles.py --like "runs/prof-rl-build-$S" --out "runs/prof-const-$S"
fi
done_ "runs/prof-data-$S" || .venv/bin/python bench/data_profiles.py --split "$S" --out "runs/prof-data-$S"
sides=none,text
profiles=()
for pair in single:prof-single two:prof-two-round rl:prof-rl-build const:prof-const data:prof-data; do
    if done_ "runs/${pair#*:}-$S"; then
        sides+=",profiles-${pair%%:*}"
        profiles+=("${pair%%:*}=runs/${pair#*:}-{split}")
    fi
done
pargs=()
[ ${#profiles[@]} -gt 0 ] && pargs=(--profiles "$(IFS=,; echo "${profiles[*]}")")
s "cf compare ($S: $sides)"
OMP_NUM_THREADS=1 $C cf compare --dataset ml-100k --split "$S" --models "$MODELS" --seed 2024 \
    --seeds "${SEEDS:-2024,2025,2026}" --side "$sides" "${pargs[@]}" \
    ${SSL_WARMUP:+--ssl-warmup "$SSL_WARMUP"} \
    --batch-size 4096 --lr 0.01 --epochs 100 --patience 5 --threads 1 --device cpu \
    --out "${OUT:-runs/cf-ablation-ml-100k}"
s done
