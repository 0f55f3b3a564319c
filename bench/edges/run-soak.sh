#!/bin/bash
# Run from anywhere after `npm run build`; writes into bench/results/edges (or $OUT).
# usage: run-soak.sh <name> <port> <seconds> <env...>
name=$1; port=$2; secs=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/../results/edges}
mkdir -p "$out"
cd "$here/../.."
env PORT=$port LOG_LEVEL=warn CREATE_RATE=0 SHORT_POLL_RATE=0 "$@" node jobs/dist/server/main.js > $out/$name-server.log 2>&1 &
spid=$!
for i in $(seq 50); do curl -sf localhost:$port/metrics >/dev/null && break; sleep 0.2; done
# the node process is $spid itself (env execs node)
echo "server pid $spid: $(tr '\0' ' ' < /proc/$spid/cmdline)" > $out/$name-info.txt
git rev-parse HEAD >> $out/$name-info.txt
git diff HEAD --stat | tail -1 >> $out/$name-info.txt
rm -f $out/$name-samples.jsonl
node $here/soak-load.mjs $port 200 $secs $out/$name-summary.json > $out/$name-load.log 2>&1 &
lpid=$!
node $here/sampler.mjs $spid $port 10000 $out/$name-samples.jsonl $lpid &
smpid=$!
wait $lpid
sleep 10
kill $smpid; kill $spid; wait $spid
echo "server exit $?" >> $out/$name-info.txt
