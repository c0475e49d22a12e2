#!/usr/bin/env bash
# The main job (README): build Kring and play a whole circle with narration, every
# device with its own real SQLite store. Pass --keep DIR to keep the stores.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --release --locked -p kring-cli -- demo "$@"
