// The third-party adapter example of docs/architecture/testing.md, verbatim: a transport over
// BroadcastChannel, written against the public exports and tested with the public conformance kit.
import { decodeEnvelope, type EnvelopeEvent, outgoingEnvelope, topicFor, TransportEventTarget } from "@alkdev/pubsub";
import { conformance } from "@alkdev/pubsub/testing";

class BroadcastEventTarget extends TransportEventTarget {
  #channel: BroadcastChannel;
  constructor(name: string) {
    super({ onListenerError: () => {} });
    this.#channel = new BroadcastChannel(name);
    this.#channel.onmessage = (message) => {
      try {
        const envelope = decodeEnvelope(message.data); // validate everything from outside
        const topic = topicFor(envelope.type, envelope.id);
        this.dispatchLocal(new CustomEvent(topic, { detail: envelope }) as EnvelopeEvent);
      } catch (error) {
        console.warn("dropped a bad message:", error); // a real adapter reports to its onError
      }
    };
  }
  dispatchEvent(event: EnvelopeEvent): boolean {
    const envelope = outgoingEnvelope(event.detail, event.type);
    this.#channel.postMessage(JSON.stringify(envelope)); // to the other side ...
    return this.dispatchLocal(event); // ... and to our own subscribers (a channel does not echo)
  }
  close(): void {
    this.#channel.close();
    this.emitClose(); // ends the subscriptions of every pub/sub over this target
    this.dropListeners();
  }
}

conformance("broadcast-channel example", () => {
  const name = crypto.randomUUID();
  const a = new BroadcastEventTarget(name), b = new BroadcastEventTarget(name);
  return {
    a,
    b,
    listenerCount: (target, topic) => (target as BroadcastEventTarget).listenerCount(topic),
    close: async () => {
      a.close();
      b.close();
      await new Promise((resolve) => setTimeout(resolve, 0)); // Deno 2.9: let a closed BroadcastChannel settle
    },
  };
});
