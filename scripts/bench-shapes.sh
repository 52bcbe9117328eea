#!/usr/bin/env bash
# What a base-size model costs to fine-tune on this CPU: training samples/s and peak RSS of full fine-tuning
# at batch 16 and length 128 for BERT-base and DeBERTa-v3-base shapes (their published config.json values,
# seeded random weights: `bench --random-weights`), against the packaged all-MiniLM-L6-v2.
# The texts are the first 2,000 IMDB training reviews, so every text fills the 128 tokens.
#
#   scripts/bench-shapes.sh [OUT_DIR] [STEPS]     # default runs/shapes-<commit>, 20 timed steps; ~12 min on 2 cores
#
# Run it alone on an otherwise idle machine. Prints a markdown table (also OUT_DIR/shapes.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${1:-runs/shapes-$(git rev-parse --short HEAD)}"
steps="${2:-20}"
mkdir -p "$out"
home="${FINETUNE4J_HOME:-$HOME/.cache/finetune4j}"
./finetune4j inspect --model all-MiniLM-L6-v2 >/dev/null # imports the packaged model on first use
minilm="$home/models/all-MiniLM-L6-v2"

# The two shapes (tokenizer: MiniLM's uncased WordPiece, whose ids fit both vocabularies).
mkdir -p "$out/bert-base-shape" "$out/deberta-v3-base-shape"
cat >"$out/bert-base-shape/config.json" <<'JSON'
{"architectures": ["BertModel"], "model_type": "bert", "vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12,
 "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
 "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512, "type_vocab_size": 2, "initializer_range": 0.02,
 "layer_norm_eps": 1e-12, "pad_token_id": 0}
JSON
cat >"$out/deberta-v3-base-shape/config.json" <<'JSON'
{"model_type": "deberta-v2", "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
 "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072, "max_position_embeddings": 512,
 "relative_attention": true, "position_buckets": 256, "norm_rel_ebd": "layer_norm", "share_att_key": true,
 "pos_att_type": "p2c|c2p", "layer_norm_eps": 1e-7, "max_relative_positions": -1, "position_biased_input": false,
 "num_attention_heads": 12, "num_hidden_layers": 12, "type_vocab_size": 0, "vocab_size": 128100}
JSON
for d in bert-base-shape deberta-v3-base-shape; do
  cp "$minilm/tokenizer.json" "$minilm/tokenizer_config.json" "$out/$d/"
done

python3 - "$out/imdb-2000.csv" <<'PY'
import csv, gzip, sys
with gzip.open("../shared/data/imdb-50k/train.csv.gz", "rt", encoding="utf-8", newline="") as f, \
        open(sys.argv[1], "w", encoding="utf-8", newline="") as o:
    r = csv.reader(f); w = csv.writer(o)
    for i, row in enumerate(r):
        if i > 2000:
            break
        w.writerow(row[:2])
PY

common=(--train "$out/imdb-2000.csv" --text-column review --label-column sentiment --strategies full
  --batch-size 16 --max-length 128 --untimed-steps 3 --steps "$steps" --inference-batches 16 --inference-samples 64)
./finetune4j bench --model all-MiniLM-L6-v2 "${common[@]}" --output "$out/minilm" --overwrite
./finetune4j bench --model "$out/bert-base-shape" --random-weights "${common[@]}" --output "$out/bert-base" --overwrite
./finetune4j bench --model "$out/deberta-v3-base-shape" --random-weights "${common[@]}" --output "$out/deberta-v3-base" --overwrite

python3 - "$out" "$steps" <<'PY' | tee "$out/shapes.md"
import json, sys
out, steps = sys.argv[1], sys.argv[2]
rows = []
for name, label in [("minilm", "all-MiniLM-L6-v2 (packaged weights)"), ("bert-base", "BERT-base shape (random weights)"),
                    ("deberta-v3-base", "DeBERTa-v3-base shape (random weights)")]:
    j = json.load(open(f"{out}/{name}/bench.json"))
    m = next(m for m in j["measurements"] if m["name"] == "train-full")
    r = m["result"]
    rows.append((label, r["trainable_params"], r["samples_per_second"], r.get("real_tokens_per_second", 0), r.get("mfu", 0),
                 m["peak_rss_mb"]))
mini, bert = rows[0][2], rows[1][2]
print("| model | parameters | samples/s | tokens/s | MFU | peak RSS (MB) | time vs MiniLM | time vs BERT-base |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for label, params, sps, tps, mfu, rss in rows:
    print(f"| {label} | {params/1e6:.1f} M | {sps:.1f} | {tps:,.0f} | {mfu*100:.0f} % | {rss:,.0f} | {mini/sps:.1f}x | {bert/sps:.2f}x |")
print(f"\nFull fine-tuning, batch 16, length 128 (every text fills it), {steps} timed steps after 3 untimed.")
PY
