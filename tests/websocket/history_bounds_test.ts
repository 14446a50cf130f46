/**
 * The hub's history under a publish flood on 10,000 topics stays within the bound hub.md documents: its live
 * memory within maxTotalBytes, the process's RSS within 8 × maxTotalBytes + 128 MiB of where it started. The hub
 * runs in a child process (fixtures/history_flood.ts) so its memory is its own.
 */

import assert from "node:assert/strict";

const MiB = 2 ** 20;

async function flood(maxTotalBytes: number, perTopic: number) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--expose-gc",
      new URL("./fixtures/history_flood.ts", import.meta.url).pathname,
      String(maxTotalBytes),
      String(perTopic),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout)) as {
    rssBefore: number;
    rssMax: number;
    heapUsed: number;
    published: number;
    topics: number;
  };
}

Deno.test("websocket hub history: 10,000 topics × a 400,000-event flood stay within the documented memory bound", async () => {
  const cap = 16 * MiB;
  const [without, withHistory] = [await flood(0, 40), await flood(cap, 40)];
  assert.equal(withHistory.published, 400_000);
  assert.equal(withHistory.topics, 10_000);
  // Live memory after a full GC: the history adds at most its cap (plus its per-topic streams).
  const retained = withHistory.heapUsed - without.heapUsed;
  assert.ok(retained <= cap * 1.25 + 10_000 * 512, `history retained ${(retained / MiB).toFixed(1)} MiB`);
  const growth = withHistory.rssMax - withHistory.rssBefore;
  assert.ok(growth <= 8 * cap + 128 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
});
