import assert from "node:assert/strict";
import { Heartbeat } from "../../mod.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("Heartbeat: a quiet peer is pinged once per look, then declared dead once", async () => {
  let pings = 0;
  let dead = 0;
  const heartbeat = new Heartbeat({ interval: 30, timeout: 30 }, () => pings++, () => dead++);
  heartbeat.start();
  for (let waited = 0; dead === 0 && waited < 2_000; waited += 10) await sleep(10);
  await sleep(100); // nothing more after the verdict
  heartbeat.stop();
  assert.equal(pings, 1);
  assert.equal(dead, 1);
});

Deno.test("Heartbeat: frames keep it from pinging; an answered ping keeps it alive", async () => {
  let pings = 0;
  let dead = 0;
  const heartbeat = new Heartbeat({ interval: 60, timeout: 60 }, () => {
    pings++;
    setTimeout(() => heartbeat.seen(), 5); // the pong
  }, () => dead++);
  heartbeat.start();
  const busy = setInterval(() => heartbeat.seen(), 10);
  await sleep(200);
  clearInterval(busy);
  assert.equal(pings, 0, "no ping while frames flow");
  await sleep(400);
  heartbeat.stop();
  assert.ok(pings >= 2, `${pings} pings`);
  assert.equal(dead, 0);
});

Deno.test("Heartbeat: stop() clears the timer; bad timings throw RangeError", () => {
  const heartbeat = new Heartbeat({}, () => {}, () => {});
  assert.equal(heartbeat.interval, 5_000);
  assert.equal(heartbeat.timeout, 5_000);
  heartbeat.start();
  heartbeat.stop(); // the op sanitizer fails the test if a timer were left
  assert.throws(() => new Heartbeat({ interval: 0 }, () => {}, () => {}), RangeError);
  assert.throws(() => new Heartbeat({ timeout: Infinity }, () => {}, () => {}), RangeError);
});
