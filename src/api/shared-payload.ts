import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';

/**
 * One answer's bytes, written to every socket that receives it. graphql-ws
 * serializes each `next` message itself (`{"id":...,"type":"next","payload":...}`,
 * the id being the subscriber's), copying the answer's own properties into
 * the payload; a shared answer's `toJSON` serializes as this placeholder
 * and hands its bytes (serialized once, on first use) to the socket's
 * `send`, which splices them in place of the placeholder. graphql-ws
 * stringifies and sends in one synchronous step, so the bytes handed over
 * always belong to the message being sent.
 */
const placeholder = `oddsgate-shared-payload-${randomUUID()}`;
const placeholderTail = `"payload":"${placeholder}"}`;
const closingBrace = Buffer.from('}');
let handedOver: (() => Buffer) | undefined;

const bytesOf = new WeakMap<ExecutionResult, () => Buffer>();

/**
 * The answer with its serialization shared by every message that carries it:
 * `JSON.stringify(result)`, or what `serialize` makes (the same JSON, built
 * from parts serialized before), once, on first use.
 */
export function sharedPayload(result: ExecutionResult, serialize: () => Buffer = () => Buffer.from(JSON.stringify(result))): ExecutionResult {
  let bytes: Buffer | undefined;
  const serialized = () => (bytes ??= serialize());
  const shared = {
    ...result,
    // Enumerable: graphql-ws builds the payload by spreading the answer.
    toJSON: () => {
      handedOver = serialized;
      return placeholder;
    },
  } as ExecutionResult;
  bytesOf.set(shared, serialized);
  return shared;
}

/** A shared answer's bytes (serialized now if no message has carried it yet); any other answer's JSON. */
export function payloadBytes(result: ExecutionResult): Buffer {
  return bytesOf.get(result)?.() ?? Buffer.from(JSON.stringify(result));
}

/** Makes `socket.send` splice shared answers' bytes into graphql-ws's messages (call before graphql-ws sees the socket). */
export function sendSharedPayloads(socket: WebSocket): void {
  const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
  socket.send = ((data: unknown, ...rest: unknown[]) => {
    if (handedOver && typeof data === 'string' && data.endsWith(placeholderTail)) {
      const callback = rest.find((arg) => typeof arg === 'function');
      const payload = handedOver();
      handedOver = undefined;
      const head = data.slice(0, data.length - placeholder.length - 3); // up to `"payload":`
      // One text message in three frames (the shared bytes are written as they are, not copied into
      // one buffer per socket); nothing else is sent in between, as this runs synchronously.
      send(head, { binary: false, fin: false });
      send(payload, { binary: false, fin: false });
      return send(closingBrace, { binary: false, fin: true }, callback);
    }
    return send(data, ...rest);
  }) as WebSocket['send'];
}

const streamedPlaceholder = { toJSON: () => placeholder } as unknown as ExecutionResult;
/** How graphql-sse prints a `next` event whose answer serializes as the placeholder. */
const streamedEvent = `event: next\ndata: "${placeholder}"\n\n`;
const streamedHead = Buffer.from('event: next\ndata: ');
const streamedTail = Buffer.from('\n\n');

/**
 * The same for one Server-Sent Events response (graphql-sse): it prints an
 * event when an answer comes and writes it later, so this response keeps its
 * shared answers in the order it printed them, and its `write` puts their
 * bytes where the placeholder events are. Returns what graphql-sse's `onNext`
 * hands back: the placeholder in place of a shared answer, any other as it is.
 */
export function streamSharedPayloads(res: http.ServerResponse): (result: ExecutionResult) => ExecutionResult {
  const printed: Array<() => Buffer> = [];
  const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (chunk !== streamedEvent || printed.length === 0) return write(chunk, ...rest);
    return write(Buffer.concat([streamedHead, printed.shift()!(), streamedTail]), ...rest);
  }) as http.ServerResponse['write'];
  return (result) => {
    const serialized = bytesOf.get(result);
    if (!serialized) return result;
    printed.push(serialized);
    return streamedPlaceholder;
  };
}
