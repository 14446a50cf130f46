import assert from "node:assert/strict";
import { type HeartbeatPeer, HeartbeatQueue } from "../../core/heartbeat_queue.ts";

/** A peer that records its pings and closes when an answer is due; `answers` says whether it answers its pings. */
class Peer implements HeartbeatPeer {
  pings: number[] = [];
  closedAt: number | undefined;
  ping = -1;
  answer = -1;
  constructor(readonly queue: HeartbeatQueue<Peer>, readonly start: number, public answers: boolean) {}
  heartbeatPing(): number {
    if (this.closedAt !== undefined) return -1;
    if (this.answer !== -1) return 0;
    this.pings.push(performance.now() - this.start);
    if (this.answers) queueMicrotask(() => this.answered());
    return 1;
  }
  heartbeatSlots(ping: number, answer: number): void {
    this.ping = ping;
    if (answer !== -1) this.answer = answer;
  }
  heartbeatDue(slot: number): void {
    if (slot !== this.answer || this.closedAt !== undefined) return;
    this.close();
  }
  answered(): void {
    if (this.answer === -1) return;
    this.queue.answered(this.answer);
    this.answer = -1;
  }
  close(): void {
    if (this.closedAt !== undefined) return;
    this.closedAt = performance.now() - this.start;
    this.queue.remove(this.ping, this.answer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("heartbeat queue: each peer pings every interval from its own start; a silent one closes after interval + timeout", async () => {
  const queue = new HeartbeatQueue<Peer>(40, 30);
  const start = performance.now();
  const talker = new Peer(queue, start, true);
  queue.add(talker);
  await sleep(15);
  const silent = new Peer(queue, performance.now(), false);
  queue.add(silent);
  await sleep(200);
  // The talker pinged about every 40 ms and stays; the silent one pinged once, at 40 ms, and closed 30 ms later.
  assert.ok(talker.pings.length >= 3, `talker pinged ${talker.pings.length} times`);
  assert.ok(talker.pings[0] >= 36, `first ping at ${talker.pings[0]} ms`);
  for (let i = 1; i < talker.pings.length; i++) {
    const gap = talker.pings[i] - talker.pings[i - 1];
    assert.ok(gap >= 30, `pings ${gap} ms apart`);
  }
  assert.equal(talker.closedAt, undefined);
  assert.equal(silent.pings.length, 1);
  assert.ok(silent.pings[0] >= 36, `silent's ping at ${silent.pings[0]} ms`);
  assert.ok(silent.closedAt !== undefined && silent.closedAt >= 36 + 26, `closed at ${silent.closedAt} ms`);
  // The last peer leaving stops the timer (the test's timer sanitizer fails otherwise).
  talker.close();
});

Deno.test("heartbeat queue: no ping while the last is unanswered; an answer cancels the deadline", async () => {
  const queue = new HeartbeatQueue<Peer>(20, 1_000);
  const peer = new Peer(queue, performance.now(), false);
  queue.add(peer);
  await sleep(90);
  assert.equal(peer.pings.length, 1); // the rest were skipped: the first is still unanswered
  peer.answered();
  await sleep(45);
  assert.ok(peer.pings.length >= 2, `pinged ${peer.pings.length} times`);
  assert.equal(peer.closedAt, undefined);
  peer.close();
});

Deno.test("heartbeat queue: a closed peer is forgotten, the others go on", async () => {
  const queue = new HeartbeatQueue<Peer>(20, 20);
  const start = performance.now();
  const peers = Array.from({ length: 50 }, () => new Peer(queue, start, true));
  for (const p of peers) queue.add(p);
  for (const p of peers.slice(0, 25)) p.close();
  await sleep(100);
  for (const p of peers.slice(0, 25)) assert.equal(p.pings.length, 0);
  for (const p of peers.slice(25)) {
    assert.ok(p.pings.length >= 2, `pinged ${p.pings.length} times`);
    assert.equal(p.closedAt, undefined);
  }
  for (const p of peers.slice(25)) p.close();
});
