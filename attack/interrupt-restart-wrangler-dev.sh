#!/bin/bash
# interrupt while the tool's instance runs, kill wrangler dev (SIGKILL group), start again on the same state
B=http://127.0.0.1:18710/agents/editor/ir1
start_dev() {
  cd /work/wt/review-a/test/tool-workflow-restart-worker
  WRANGLER_BUILD_CONDITIONS="@durable-agents/source,workerd,worker,browser" CLOUDFLARE_CF_FETCH_ENABLED=false setsid /work/wt/review-a/node_modules/node/bin/node /work/wt/review-a/node_modules/wrangler/bin/wrangler.js dev --ip 127.0.0.1 --port 18710 --inspector-port 18711 --show-interactive-dev-session=false --persist-to /tmp/ra-state >> /tmp/ra-dev.log 2>&1 &
  echo $! > /tmp/ra-dev.pid
  until curl -s -o /dev/null http://127.0.0.1:18710/; do sleep 0.5; done
}
kinds() { curl -s "$B/events?offset=-1" | python3 -c "import json,sys; print(' '.join(e['kind'] for e in json.load(sys.stdin) if not e['kind'].startswith('model.delta')))"; }
curl -s -X POST $B/runs -H 'content-type: application/json' -d '{"input":{"message":"10000"}}'; echo
until grep -q "execute ir1/" /tmp/ra-dev.log; do sleep 0.3; done
curl -s -X POST $B/interrupt -H 'content-type: application/json' -d '{"reason":"pause"}'; echo
kinds
kill -KILL -- -$(cat /tmp/ra-dev.pid); sleep 2
start_dev
sleep 25
echo "after restart: $(kinds)"
curl -s -X POST $B/resume -H 'content-type: application/json' -d '{"mode":"continue"}'; echo
sleep 5
echo "after resume: $(kinds)"
echo "admit $(grep -c 'admit ir1/' /tmp/ra-dev.log) execute $(grep -c 'execute ir1/' /tmp/ra-dev.log) executed $(grep -c 'executed ir1/' /tmp/ra-dev.log)"
