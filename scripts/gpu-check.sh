#!/usr/bin/env bash
# Does this box run lafited on CUDA? A short CUDA fit (paper preset, a tiny
# synthetic one-class set, one epoch), an eval and a training benchmark, each
# asking ONNX Runtime for cuda; prints the execution provider each one
# actually used. Without a working CUDA provider every stage falls back to
# the CPU and says "cpu (cuda requested but unavailable: <reason>)".
#
# Needs a built tree (npm run build). Environment (for the test suite and
# quick runs; defaults are the real check):
#   GPU_CHECK_PRESET  diffusion preset: paper (default) | cpu | tiny
#   GPU_CHECK_TRAIN   train/good images per class (default 5; at least 4)
#   GPU_CHECK_DIR     work folder (default: a temporary one, removed at exit)
# Exit status: 0 whether or not CUDA was used (the report is the output);
# non-zero when a stage itself fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
preset=${GPU_CHECK_PRESET:-paper}
train=${GPU_CHECK_TRAIN:-5}
if [ -n "${GPU_CHECK_DIR:-}" ]; then
  work=$GPU_CHECK_DIR
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
lafite() { node bin/lafite.js "$@"; }
cls=hex_nut

echo "gpu-check: preset $preset, $train train images of $cls, work folder $work"
lafite synth --out "$work/data" --seed 1 --train "$train" --test 1 --test-defect 1 --force >/dev/null 2>"$work/synth.log"
cat >"$work/model.yaml" <<YAML
diffusion: { preset: $preset, executionProvider: cuda, epochs: 1, batchSize: 2, replayMB: 0 }
tuning: { perClass: 2 }
YAML

echo "gpu-check: fit"
lafite fit --data "$work/data" --class "$cls" --out "$work/bundle" --config "$work/model.yaml" --no-tune --force \
  --execution-provider cuda --cache "$work/cache" 2>"$work/fit.log" || { cat "$work/fit.log" >&2; exit 1; }
echo "gpu-check: eval"
lafite eval --bundle "$work/bundle" --data "$work/data" --class "$cls" --execution-provider cuda >"$work/eval.out" 2>"$work/eval.log" || { cat "$work/eval.log" >&2; exit 1; }
echo "gpu-check: bench:train"
node dist/bench/train.js --preset "$preset" --c 120 --batch 2 --steps 2 --threads 2 --ep cuda --ceiling 0 >"$work/bench.out" 2>"$work/bench.log" || { cat "$work/bench.log" >&2; exit 1; }

# What each stage said about its provider ("... execution provider cuda" or "... cpu (cuda requested but unavailable: ...)").
# (|| true: a stage that printed no such line reports "unknown" instead of ending the script under pipefail.)
provider_of() { { grep -h -o 'execution provider:\? .*' "$@" || true; } | sed -n -E '1s/^execution provider:? //p'; }
fit_ep=$(provider_of "$work/fit.log")
train_ep=$({ grep -h 'diffusion training: execution provider' "$work/fit.log" || true; } | sed -n -E '1s/^.*execution provider //p')
eval_ep=$(provider_of "$work/eval.log")
bench_ep=$(provider_of "$work/bench.out")
echo "gpu-check: eval (img AUROC, pix AUROC, img AP, pix AP, pix AUPRO): $({ grep -m1 '^mean' "$work/eval.out" || true; } | tr -s ' ' | cut -d' ' -f2-)"
echo "gpu-check: $(grep -m1 'samples/s' "$work/bench.out" || true)"
echo "execution provider (fit: backbone, scoring): ${fit_ep:-unknown}"
echo "execution provider (fit: diffusion training): ${train_ep:-unknown}"
echo "execution provider (eval): ${eval_ep:-unknown}"
echo "execution provider (bench:train): ${bench_ep:-unknown}"
all="$fit_ep|$train_ep|$eval_ep|$bench_ep"
if [ "$all" = "cuda|cuda|cuda|cuda" ]; then
  echo "gpu-check: CUDA used by every stage"
else
  echo "gpu-check: NOT all on CUDA: $train_ep"
fi
