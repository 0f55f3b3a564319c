#!/bin/bash
# Run from anywhere after `npm run build`; writes into bench/results/edges (or $OUT).
# usage: run-flood.sh <name> <port> <pollerSeconds> <flood args...>
name=$1; port=$2; psecs=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/../results/edges}
mkdir -p "$out"
cd "$here/../.."
env PORT=$port LOG_LEVEL=warn CREATE_RATE=0 SHORT_POLL_RATE=0 node jobs/dist/server/main.js > $out/$name-server.log 2>&1 &
spid=$!
for i in $(seq 50); do curl -sf localhost:$port/metrics >/dev/null && break; sleep 0.2; done
sleep 2
rm -f $out/$name-samples.jsonl
node $here/sampler.mjs $spid $port 1000 $out/$name-samples.jsonl &
smpid=$!
node $here/poller.mjs $port 50 $psecs $out/$name-poll.jsonl &
ppid=$!
sleep 20
node $here/flood.mjs $port ${STREAMS:-20000} $out/$name-events.jsonl "$@" > $out/$name-flood.out 2>&1
echo "flood exit $?" >> $out/$name-flood.out
wait $ppid
sleep 3
kill $smpid; kill $spid; wait $spid; echo "server exit $?" >> $out/$name-flood.out
