import {
  createSourceEventStream,
  execute,
  getOperationAST,
  Kind,
  print,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type OperationDefinitionNode,
} from 'graphql';
import { payloadBytes, sharedPayload } from './shared-payload.js';

/** Executions of subscription selections since start, for metrics and /health. */
export interface SharedExecutionStats {
  /** Updates executed (graphql-js `execute` with the update as root value). */
  executions: number;
  /** Updates a subscriber sent from an execution another subscriber's update started. */
  shared: number;
}

type Stream = AsyncIterableIterator<ExecutionResult> & { return(): Promise<IteratorResult<ExecutionResult>> };

/**
 * graphql-js `subscribe`, with each published update executed once per
 * distinct selection rather than once per subscriber. Every subscriber keeps
 * its own source stream (its filters, its conflating queue, its replay after
 * `after`): only the execution of an update that reaches several of them is
 * shared. Updates are shared objects (the pubsub hands the same message to
 * every subscriber), so an execution is remembered per update object and
 * forgotten with it; a replayed update is a new object per subscriber, so it
 * is executed for that subscriber alone.
 *
 * Two subscribers share an execution when their documents are the same once
 * the root field's arguments are removed, with the same operation name and
 * the same values for the variables used anywhere else. The root field's
 * arguments (`eventIds`, `bookmakers`, `markets`, `after`) choose which
 * updates reach a subscriber, never what one update executes to: the root
 * fields' `resolve` ignore their arguments (src/api/resolvers.ts).
 *
 * An answer without errors is serialized once too (src/api/shared-payload.ts);
 * one with errors goes through the operation pipeline for each subscriber,
 * which masks and logs it under that subscriber's connection.
 */
export class SharedExecutions {
  /** Per update and execution key: its answer, or the promise of it while it executes. */
  readonly #results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
  /** Per batch's last update and execution key: the batch answered last, with its updates. */
  readonly #batches = new WeakMap<object, Map<string, { updates: readonly object[]; answer: Promise<ExecutionResult> }>>();
  readonly #stats: SharedExecutionStats = { executions: 0, shared: 0 };

  /** For graphql-ws's `subscribe` option. */
  async subscribe(args: ExecutionArgs): Promise<Stream | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const key = executionKey(args.document, args.operationName, args.variableValues);
    return mapStream(source, (update) => this.#execute(key, update, args));
  }

  stats(): SharedExecutionStats {
    return { ...this.#stats };
  }

  #execute(key: string | undefined, update: unknown, args: ExecutionArgs): ExecutionResult | Promise<ExecutionResult> {
    if (key === undefined || typeof update !== 'object' || update === null) return this.#run(args, update);
    if (Array.isArray(update)) return this.#executeBatch(key, update, args);
    return this.#answer(key, update, args, update);
  }

  async #run(args: ExecutionArgs, rootValue: unknown): Promise<ExecutionResult> {
    this.#stats.executions++;
    const result = await execute({ ...args, rootValue });
    return result.errors ? result : sharedPayload(result);
  }

  /** `update`'s answer executed as `rootValue`, remembered per update object: settled, or on its way. */
  #answer(key: string, update: object, args: ExecutionArgs, rootValue: unknown): ExecutionResult | Promise<ExecutionResult> {
    let byKey = this.#results.get(update);
    if (!byKey) this.#results.set(update, (byKey = new Map()));
    const known = byKey.get(key);
    if (known) {
      this.#stats.shared++;
      return known;
    }
    // Settled answers replace their promise, so a batch of answers already known takes no await.
    const result = this.#run(args, rootValue).then((answer) => (byKey.set(key, answer), answer));
    byKey.set(key, result);
    return result;
  }

  /**
   * A batch (`oddsUpdatedBatch`): a new array per subscriber, but of shared
   * updates, so each update is executed (as a batch of one) and serialized
   * once per selection, and a batch's bytes are its updates' bytes joined,
   * once for all subscribers whose batch holds the same updates (those that
   * keep up get the same bursts).
   */
  #executeBatch(key: string, updates: readonly object[], args: ExecutionArgs): Promise<ExecutionResult> {
    const last = updates.at(-1)!;
    let byKey = this.#batches.get(last);
    if (!byKey) this.#batches.set(last, (byKey = new Map()));
    const known = byKey.get(key);
    if (known && (known.updates === updates || (known.updates.length === updates.length && known.updates.every((update, i) => update === updates[i])))) {
      this.#stats.shared++;
      return known.answer;
    }
    const answer = this.#joinBatch(key, updates, args);
    byKey.set(key, { updates, answer });
    return answer;
  }

  /** A batch with an update whose execution has errors is executed for this subscriber alone, so the errors go through its pipeline as one answer. */
  async #joinBatch(key: string, updates: readonly object[], args: ExecutionArgs): Promise<ExecutionResult> {
    const answers = updates.map((update) => this.#answer(key, update, args, [update]));
    const items = answers.some((answer) => answer instanceof Promise) ? await Promise.all(answers) : (answers as ExecutionResult[]);
    if (items.some((item) => item.errors)) return this.#run(args, updates);
    const [field] = Object.keys(items[0]!.data!);
    const values = items.map((item) => (item.data![field!] as unknown[])[0]);
    return sharedPayload({ data: { [field!]: values } }, (): Buffer => batchBytes(field!, items));
  }
}

const comma = Buffer.from(',');
const batchTail = Buffer.from(']}}');

/** `{"data":{"<field>":[...]}}` from one-update answers' bytes, each `{"data":{"<field>":[<update>]}}`. */
function batchBytes(field: string, items: readonly ExecutionResult[]): Buffer {
  const head = Buffer.from(`{"data":{${JSON.stringify(field)}:[`);
  const parts: Buffer[] = [head];
  items.forEach((item, i) => {
    const bytes = payloadBytes(item);
    if (i > 0) parts.push(comma);
    parts.push(bytes.subarray(head.length, bytes.length - batchTail.length));
  });
  parts.push(batchTail);
  return Buffer.concat(parts);
}

/** graphql-js's mapping of a source stream to results (its `mapAsyncIterator` is internal). */
function mapStream(source: AsyncIterable<unknown>, map: (update: unknown) => ExecutionResult | Promise<ExecutionResult>): Stream {
  const iterator = source[Symbol.asyncIterator]();
  const close = async (): Promise<IteratorResult<ExecutionResult>> => {
    await iterator.return?.();
    return { value: undefined, done: true };
  };
  return {
    async next() {
      const next = await iterator.next();
      if (next.done) return { value: undefined, done: true };
      try {
        return { value: await map(next.value), done: false };
      } catch (error) {
        await close().catch(() => {});
        throw error;
      }
    },
    return: close,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Per document and operation name: its subscription printed without the root fields' arguments, and the variables used elsewhere (null: not shared). */
const sharedSelections = new WeakMap<DocumentNode, Map<string | null, { printed: string; used: string[] } | null>>();

/**
 * What one update's execution depends on, as a string (undefined: not a
 * subscription, or one whose root selection is not plain fields, which is
 * executed per subscriber): the document printed without the root fields'
 * arguments, the operation name, and the values of the variables used
 * anywhere but in those arguments. The printing is remembered per document:
 * subscribers of one document text share its parsed document
 * (src/api/operation-check.ts), and printing took a fifth of a subscribe.
 */
export function executionKey(document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): string | undefined {
  let byName = sharedSelections.get(document);
  if (!byName) sharedSelections.set(document, (byName = new Map()));
  let selection = byName.get(operationName ?? null);
  if (selection === undefined) byName.set(operationName ?? null, (selection = sharedSelection(document, operationName)));
  if (selection === null) return undefined;
  const kept = selection.used.map((name) => [name, variables?.[name] ?? null]);
  return `${selection.printed}\n${operationName ?? ''}\n${JSON.stringify(kept)}`;
}

function sharedSelection(document: DocumentNode, operationName: string | null | undefined): { printed: string; used: string[] } | null {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'subscription' || operation.selectionSet.selections.some((s) => s.kind !== Kind.FIELD)) return null;
  const withoutRootArguments: OperationDefinitionNode = {
    ...operation,
    selectionSet: {
      ...operation.selectionSet,
      selections: operation.selectionSet.selections.map((field) => (field.kind === Kind.FIELD ? { ...field, arguments: [] } : field)),
    },
  };
  const stripped: DocumentNode = { ...document, definitions: document.definitions.map((d) => (d === operation ? withoutRootArguments : d)) };
  const used = new Set<string>();
  visit(stripped, {
    VariableDefinition: () => false,
    Variable: (node) => void used.add(node.name.value),
  });
  return { printed: print(stripped), used: [...used].sort() };
}
