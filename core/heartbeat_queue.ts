/**
 * `HeartbeatQueue`: the heartbeat of many connections on one timer. Every
 * connection of a hub pings at the same interval and waits the same timeout,
 * so their due times come in the order they were scheduled: two FIFO queues
 * (pings due, answers due) and one timer armed for the earliest head replace
 * a repeating timer per connection and a timeout per ping (in Bun each timer
 * is a native allocation too). Not exported from the package.
 *
 * @module
 */

/** A connection on a {@linkcode HeartbeatQueue}. */
export interface HeartbeatPeer {
  /** Its ping is due: sends one unless the last is unanswered. 1: sent, 0: not, -1: it has closed meanwhile. */
  heartbeatPing(): number;
  /**
   * Where it is on the queue: its next ping's slot, and after a ping it sent,
   * the slot of the answer's deadline (`-1`: no new one).
   */
  heartbeatSlots(ping: number, answer: number): void;
  /** The answer's deadline at `slot` has come: it closes unless the answer came (and it forgot that slot). */
  heartbeatDue(slot: number): void;
}

/** Due entries within this many ms of the earliest are handled in the same timer run. */
const COALESCE_MS = 4;

/**
 * A FIFO of (peer, due time) in parallel arrays, consumed from `head`. A slot
 * is an entry's position counted from the queue's start, so it stays valid
 * when the consumed part is dropped.
 */
class Fifo<P> {
  peers: (P | undefined)[] = [];
  at: number[] = [];
  head = 0;
  /** Entries dropped from the front so far. */
  base = 0;

  get empty(): boolean {
    return this.head === this.peers.length;
  }

  /** Appends; never before the last entry, so the queue stays in due order. Returns the slot. */
  push(peer: P, at: number): number {
    const last = this.at.length > this.head ? this.at[this.at.length - 1] : -Infinity;
    this.peers.push(peer);
    this.at.push(Math.max(at, last));
    return this.base + this.peers.length - 1;
  }

  /** Forgets the peer at `slot`, if it is still waiting there. */
  clear(slot: number): void {
    const i = slot - this.base;
    if (i >= this.head && i < this.peers.length) this.peers[i] = undefined;
  }

  /** Drops the consumed part once it is most of the arrays. */
  compact(): void {
    if (this.head === this.peers.length || (this.head > 1024 && this.head * 2 > this.peers.length)) {
      this.peers = this.peers.slice(this.head);
      this.at = this.at.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}

/**
 * Pings each added peer every `interval` ms (the peer skips a ping while its
 * last is unanswered), and `timeout` ms after each ping it sent tells it the
 * answer is due. One timer for all of them, none while no peer is on it.
 *
 * @typeParam P The peer.
 */
export class HeartbeatQueue<P extends HeartbeatPeer> {
  readonly interval: number;
  readonly timeout: number;
  #pings = new Fifo<P>();
  #answers = new Fifo<P>();
  #live = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires. */
  #timerAt = Infinity;

  constructor(interval: number, timeout: number) {
    this.interval = interval;
    this.timeout = timeout;
  }

  /** Starts `peer`'s heartbeat: its first ping is due in `interval` ms. Call {@linkcode HeartbeatQueue.remove} once it closes. */
  add(peer: P): void {
    this.#live++;
    const slot = this.#pings.push(peer, performance.now() + this.interval);
    peer.heartbeatSlots(slot, -1);
    this.#arm(this.#pings.at[this.#pings.head]);
  }

  /** The answer came: forgets the deadline at `slot`. */
  answered(slot: number): void {
    this.#answers.clear(slot);
  }

  /** A peer added before has closed: forgets its slots; the last one stops the timer. */
  remove(ping: number, answer: number): void {
    this.#pings.clear(ping);
    if (answer !== -1) this.#answers.clear(answer);
    if (--this.#live > 0) return;
    this.#live = 0;
    this.#pings = new Fifo<P>();
    this.#answers = new Fifo<P>();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #arm(at: number): void {
    if (at >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#run(), Math.max(0, at - performance.now()));
  }

  #run(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const pings = this.#pings;
    const answers = this.#answers;
    const until = performance.now() + COALESCE_MS;
    while (!answers.empty && answers.at[answers.head] <= until) {
      const i = answers.head++;
      const peer = answers.peers[i];
      answers.peers[i] = undefined;
      peer?.heartbeatDue(answers.base + i);
    }
    if (this.#pings !== pings) return; // the last peer left meanwhile
    while (!pings.empty && pings.at[pings.head] <= until) {
      const i = pings.head++;
      const peer = pings.peers[i];
      if (peer === undefined) continue;
      pings.peers[i] = undefined;
      const at = pings.at[i];
      const sent = peer.heartbeatPing();
      if (this.#pings !== pings) return; // the last peer left meanwhile
      if (sent === -1) continue; // it closed (and left)
      // A fixed rate, as a repeating timer: the next ping is due one interval after this one was.
      const next = pings.push(peer, at + this.interval);
      peer.heartbeatSlots(next, sent === 1 ? answers.push(peer, performance.now() + this.timeout) : -1);
    }
    pings.compact();
    answers.compact();
    const next = Math.min(
      pings.empty ? Infinity : pings.at[pings.head],
      answers.empty ? Infinity : answers.at[answers.head],
    );
    if (next !== Infinity) this.#arm(next);
  }
}
