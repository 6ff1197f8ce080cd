#!/usr/bin/env bash
# Launch examples/sim-failover.yaml on the emulated cloud with an injected
# capacity failure, show the failover history, and tear the cluster down.
set -euo pipefail
SKYC=${1:-build/skyc}
cd "$(dirname "$0")/.."
export SKYC_SIM_CONFIG=examples/sim-failover.sim.yaml
"$SKYC" launch --provider sim -c failover-demo examples/sim-failover.yaml
"$SKYC" failover-history failover-demo
"$SKYC" down failover-demo
