import type { FormattedExecutionResult } from 'graphql';
import { deadlineOf, withoutDeadline } from './execution-timeout.js';
import type { ReadJournal, Reads } from './read-journal.js';
import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getVariableValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  GraphQLString,
  isAbstractType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLLeafType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  type DirectiveNode,
  visit,
} from 'graphql';

/**
 * Execution that writes the answer's JSON as it goes, with no result tree
 * for Apollo to walk again, and that serialises an immutable record's part
 * of the answer once per selection shape: the odds cache's records are
 * deep-frozen and replaced, never mutated, on change (src/domain/records.ts),
 * so the JSON of a market with its outcomes, or of a bookmaker, selected the
 * same way, is the same bytes until the record itself is replaced. A board
 * page is mostly such parts; they are spliced in from a WeakMap keyed by the
 * record (it lives exactly as long as the record does).
 *
 * A subtree is memoised when every field reads the record's own property, or
 * is resolved by a resolver of a type said to read nothing but its parent,
 * its arguments (literals in the document) and the request's loaders. What
 * such resolvers read is recorded (src/api/read-journal.ts) with the JSON,
 * and the JSON is reused only while every one of those reads answers the same
 * record in this request: an event's part stands while its odds, competition
 * and bookmakers are the records it was made from. Checking them reads them
 * through the request's loaders, so the response cache's tags are what a
 * fresh execution would have read. Anything off the common path (a
 * resolver's error, a null in a non-null field, an abstract type,
 * introspection) abandons the attempt, and the operation runs in graphql-jit
 * or graphql-js, which word errors and propagate nulls; reads are
 * idempotent, so running again changes nothing.
 * test/graphql/compiled-execution.test.ts compares the bytes with graphql-js.
 */

/** An answer's `data`, already JSON: Apollo's `stringifyResult` (below) splices it instead of walking it. */
export class JsonData {
  constructor(readonly json: string) {}

  /** For anyone else serialising it (slow, but the same bytes). */
  toJSON(): unknown {
    return JSON.parse(this.json) as unknown;
  }
}

/** Apollo Server's `stringifyResult`: its default (`JSON.stringify(value) + '\n'`), with spliced data kept as it is. */
export function stringifyResult(result: FormattedExecutionResult): string {
  if (result.data instanceof JsonData && result.errors === undefined && result.extensions === undefined) return `{"data":${result.data.json}}\n`;
  return `${JSON.stringify(result)}\n`;
}

/** Thrown to abandon a spliced execution: the operation is run by the reference path instead. */
class Abandon extends Error {}
const abandon = (): never => {
  throw new Abandon();
};

interface FieldPlan {
  /** `"responseKey":` */
  prefix: string;
  node: FieldNode;
  field: GraphQLField<unknown, unknown> | undefined;
  resolve: GraphQLFieldResolver<unknown, unknown> | undefined;
  fieldName: string;
  /** Arguments without variables, coerced once; undefined: coerced per request. */
  staticArgs: Record<string, unknown> | undefined;
  completion: Completion;
}

/**
 * How a field's value becomes JSON: its type, unwrapped once when planned (graphql's type checks are slow per value).
 * `reads`: resolvers below read loaders, so a memoised part records what they read.
 */
type Completion =
  | { kind: 'nonNull'; of: Completion; shape: string | undefined; reads: boolean }
  | { kind: 'list'; of: Completion; shape: string | undefined; reads: boolean }
  | { kind: 'leaf'; type: GraphQLLeafType; shape: string; reads: false }
  | { kind: 'object'; plan: ObjectPlan; shape: string | undefined; reads: boolean };

interface ObjectPlan {
  type: GraphQLObjectType;
  fields: FieldPlan[];
  /**
   * The selection as text, for the memo; undefined when the part is not a function of the record and the
   * loaders' reads alone (a resolver of another type, arguments from variables).
   */
  shape: string | undefined;
  /** Some resolver of the part reads loaders. */
  reads: boolean;
}

/** A memoised part: its JSON, with what its resolvers read when it has any. */
type MemoisedPart = string | { json: string; reads: Reads };

/** Spliced JSON of immutable records, per record and selection shape; lives as long as the records do. */
export type SpliceMemo = WeakMap<object, Map<string, MemoisedPart>>;

export interface SpliceOptions {
  memo: SpliceMemo;
  /** The request's journal of loader reads (src/api/read-journal.ts); undefined: parts with resolvers are not memoised. */
  journalOf: (context: unknown) => ReadJournal | undefined;
  /** Types whose resolvers read nothing but their parent, their arguments and the request's loaders. */
  resolvedFromLoaders: ReadonlySet<string>;
}

/** One operation, compiled for one set of values of the variables its @include/@skip read. */
interface OperationPlan {
  root: ObjectPlan;
}

/** What one execution carries: variables, and per-request argument values of fields that take variables. */
interface Execution {
  context: unknown;
  journal: ReadJournal | undefined;
  deadline: ReturnType<typeof deadlineOf>;
  /**
   * A promise's JSON per completion: DataLoader hands every load of one key in a request the same promise
   * (a board page's thousand best prices and snapshots name six bookmakers), so each is completed once.
   */
  completions: Map<PromiseLike<unknown>, Map<Completion, Promise<string>>>;
  variables: Record<string, unknown>;
  args: Map<FieldPlan, Record<string, unknown>>;
}

// Shapes memoised per record: a client inventing selections cannot make one record hold more strings.
const maxShapesPerRecord = 4;

export class SplicedOperation {
  readonly #schema: GraphQLSchema;
  readonly #operation: OperationDefinitionNode;
  readonly #fragments: Map<string, FragmentDefinitionNode>;
  /** Variables that @include/@skip read: plans differ by their values. */
  readonly #directiveVariables: string[];
  readonly #plans = new Map<string, OperationPlan | null>();
  readonly #options: SpliceOptions;
  readonly #memo: SpliceMemo;

  private constructor(schema: GraphQLSchema, operation: OperationDefinitionNode, document: DocumentNode, options: SpliceOptions) {
    this.#schema = schema;
    this.#operation = operation;
    this.#options = options;
    this.#memo = options.memo;
    this.#fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
    this.#directiveVariables = [...directiveVariables(document)];
  }

  /** The query `operationName` of `document`, or undefined when it is not a query. */
  static of(schema: GraphQLSchema, document: DocumentNode, operationName: string, options: SpliceOptions): SplicedOperation | undefined {
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
    if (!operation || operation.operation !== 'query' || !schema.getQueryType()) return undefined;
    return new SplicedOperation(schema, operation, document, options);
  }

  /** The answer's data as JSON, or undefined when this path does not answer it (the reference path does). */
  async execute(rawVariables: Record<string, unknown> | undefined, context: unknown): Promise<JsonData | undefined> {
    // Variables that do not coerce are the reference path's to word.
    const coercion = getVariableValues(this.#schema, this.#operation.variableDefinitions ?? [], rawVariables ?? {});
    if (coercion.errors) return undefined;
    const variables = coercion.coerced;
    const plan = this.#planFor(variables);
    if (!plan) return undefined;
    const journal = this.#options.journalOf(context);
    try {
      const deadline = deadlineOf(context as object);
      const execution: Execution = { context, journal, deadline, completions: new Map(), variables, args: new Map() };
      const json = this.#completeObject(plan.root, undefined, execution);
      // Resolvers run without their own deadline race (one per call): the whole answer races it once.
      return new JsonData(await (deadline && typeof json !== 'string' ? Promise.race([json, deadline.reached]) : json));
    } catch {
      // A part being recorded was abandoned half-way.
      journal?.discard();
      // Abandoned, or a resolver's error: the reference path words it (and reads again, to the same effect).
      return undefined;
    }
  }

  #planFor(variables: Record<string, unknown>): OperationPlan | null {
    const signature = this.#directiveVariables.map((name) => String(variables[name])).join(',');
    let plan = this.#plans.get(signature);
    if (plan === undefined) {
      try {
        plan = { root: this.#objectPlan(this.#schema.getQueryType()!, [this.#operation.selectionSet], variables) };
      } catch (error) {
        if (!(error instanceof Abandon)) throw error;
        plan = null;
      }
      this.#plans.set(signature, plan);
    }
    return plan;
  }

  /** graphql-js's field collection (fragments, type conditions, @include/@skip), resolved once per plan. */
  #objectPlan(type: GraphQLObjectType, selectionSets: readonly SelectionSetNode[], variables: Record<string, unknown>): ObjectPlan {
    const byKey = new Map<string, FieldNode[]>();
    const visited = new Set<string>();
    const collect = (set: SelectionSetNode) => {
      for (const selection of set.selections) {
        if (!included(selection, variables)) continue;
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          const nodes = byKey.get(key);
          if (nodes) nodes.push(selection);
          else byKey.set(key, [selection]);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (!selection.typeCondition || this.#applies(selection.typeCondition.name.value, type)) collect(selection.selectionSet);
        } else {
          const name = selection.name.value;
          const fragment = this.#fragments.get(name);
          if (visited.has(name) || !fragment || !this.#applies(fragment.typeCondition.name.value, type)) continue;
          visited.add(name);
          collect(fragment.selectionSet);
        }
      }
    };
    for (const set of selectionSets) collect(set);
    const fields = [...byKey].map(([key, nodes]) => this.#fieldPlan(type, key, nodes, variables));
    const fromLoaders = this.#options.resolvedFromLoaders.has(type.name);
    const pure = fields.every((f) => f.completion.shape !== undefined && (f.resolve === undefined || (fromLoaders && f.staticArgs !== undefined)));
    const shape = pure ? `${type.name}{${fields.map((f) => `${f.prefix}${argumentsShape(f)}${f.completion.shape!}`).join(',')}}` : undefined;
    return { type, fields, shape, reads: fields.some((f) => f.resolve !== undefined || f.completion.reads) };
  }

  #fieldPlan(type: GraphQLObjectType, key: string, nodes: FieldNode[], variables: Record<string, unknown>): FieldPlan {
    const node = nodes[0]!;
    const fieldName = node.name.value;
    const prefix = `${JSON.stringify(key)}:`;
    if (fieldName === TypeNameMetaFieldDef.name) {
      return { prefix, node, field: undefined, resolve: undefined, fieldName, staticArgs: {}, completion: { kind: 'leaf', type: GraphQLString, shape: '__typename', reads: false } };
    }
    // Introspection (__schema, __type) and unknown fields: the reference path answers.
    const field = type.getFields()[fieldName] ?? abandon();
    const named = getNamedType(field.type);
    const object = isObjectType(named)
      ? this.#objectPlan(named, nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : [])), variables)
      : undefined;
    const staticArgs = node.arguments?.some((a) => usesVariables(a.value)) ? undefined : getArgumentValues(field, node);
    const resolve = field.resolve && withoutDeadline(field.resolve);
    return { prefix, node, field, resolve, fieldName, staticArgs, completion: completionOf(field.type, fieldName, object) };
  }

  #applies(typeCondition: string, type: GraphQLObjectType): boolean {
    if (typeCondition === type.name) return true;
    const condition = this.#schema.getType(typeCondition);
    return condition !== undefined && isAbstractType(condition) && this.#schema.isSubType(condition, type);
  }

  /**
   * `memo`: false inside a part being memoised already (the outermost record's JSON holds its children's, kept
   * once rather than again per level).
   */
  #completeObject(plan: ObjectPlan, source: unknown, execution: Execution, memo = true): string | Promise<string> {
    const memoised = memo && plan.shape !== undefined && typeof source === 'object' && source !== null && Object.isFrozen(source) && (!plan.reads || execution.journal !== undefined);
    if (memoised) {
      const json = this.#recall(source, plan.shape!, execution);
      if (json !== undefined) return json;
      if (plan.reads) execution.journal!.begin();
    }
    // Values only; their keys are added when joined (a promise fewer per field that waits).
    const values: Array<string | Promise<string>> = [];
    let pending = false;
    for (const field of plan.fields) {
      const value = this.#completeField(field, plan.type, source, execution, !memoised && memo);
      if (typeof value !== 'string') pending = true;
      values.push(value);
    }
    if (pending) {
      // A part that waited on a batch is not memoised: its reads were not all answered at once.
      if (memoised && plan.reads) execution.journal!.discard();
      return whenAll(values, (resolved) => joinObject(plan.fields, resolved));
    }
    const json = joinObject(plan.fields, values as string[]);
    if (memoised) this.#remember(source as object, plan.shape!, json, plan.reads ? execution.journal!.end() : undefined);
    return json;
  }

  /** The part's JSON, if memoised and every read it was made from still answers the same record. */
  #recall(source: object, shape: string, execution: Execution): string | undefined {
    const part = this.#memo.get(source)?.get(shape);
    if (part === undefined || typeof part === 'string') return part;
    return execution.journal!.unchanged(part.reads) ? part.json : undefined;
  }

  #remember(source: object, shape: string, json: string, reads: Reads | undefined): void {
    let shapes = this.#memo.get(source);
    if (!shapes) this.#memo.set(source, (shapes = new Map()));
    // A part whose reads changed is replaced; a new shape only while the record has room.
    if (shapes.size >= maxShapesPerRecord && !shapes.has(shape)) return;
    // Joined strings are ropes of every piece; kept as they are, a page's records would leave millions of small
    // strings for the garbage collector to trace. Converting to a number makes V8 flatten the rope in place.
    Number(json);
    shapes.set(shape, reads ? { json, reads } : json);
  }

  /** The field's value as JSON (without its key). */
  #completeField(field: FieldPlan, parentType: GraphQLObjectType, source: unknown, execution: Execution, memo: boolean): string | Promise<string> {
    if (field.field === undefined) return JSON.stringify(parentType.name);
    let value: unknown;
    if (field.resolve) {
      if (execution.deadline?.expired) abandon();
      let args = field.staticArgs ?? execution.args.get(field);
      if (!args) execution.args.set(field, (args = getArgumentValues(field.field, field.node, execution.variables)));
      // Resolvers here read neither `info` nor anything graphql-js would put in it (src/api/resolvers.ts).
      value = field.resolve(source, args, execution.context, undefined as never);
    } else {
      value = defaultValue(source, field.fieldName);
    }
    return this.#completeValue(field.completion, value, execution, memo);
  }

  #completeValue(completion: Completion, value: unknown, execution: Execution, memo: boolean): string | Promise<string> {
    if (isPromiseLike(value)) {
      let byCompletion = execution.completions.get(value);
      if (!byCompletion) execution.completions.set(value, (byCompletion = new Map()));
      let json = byCompletion.get(completion);
      // Only resolvers return promises, and memoised parts have none: the value starts a part of its own.
      if (!json) byCompletion.set(completion, (json = Promise.resolve(value).then((v) => this.#completeValue(completion, v, execution, true))));
      return json;
    }
    switch (completion.kind) {
      case 'nonNull':
        // graphql-js reports it and nulls the parent.
        return value == null ? abandon() : this.#completeValue(completion.of, value, execution, memo);
      case 'leaf': {
        if (value == null) return 'null';
        const serialized = completion.type.serialize(value);
        return serialized === undefined ? abandon() : JSON.stringify(serialized);
      }
      case 'object':
        return value == null ? 'null' : this.#completeObject(completion.plan, value, execution, memo);
      case 'list':
        return value == null ? 'null' : this.#completeList(completion, value, execution, memo);
    }
  }

  #completeList(completion: Extract<Completion, { kind: 'list' }>, value: unknown, execution: Execution, memo: boolean): string | Promise<string> {
    if (!Array.isArray(value)) return abandon();
    // A frozen list of records (a snapshot's markets) is as immutable as they are: one lookup for all of it.
    const memoised = memo && completion.shape !== undefined && Object.isFrozen(value) && (!completion.reads || execution.journal !== undefined);
    if (memoised) {
      const json = this.#recall(value, completion.shape!, execution);
      if (json !== undefined) return json;
      if (completion.reads) execution.journal!.begin();
    }
    const items: Array<string | Promise<string>> = [];
    let pending = false;
    for (const item of value) {
      const part = this.#completeValue(completion.of, item, execution, !memoised && memo);
      if (typeof part !== 'string') pending = true;
      items.push(part);
    }
    if (pending) {
      if (memoised && completion.reads) execution.journal!.discard();
      return whenAll(items, joinList);
    }
    const json = joinList(items as string[]);
    if (memoised) this.#remember(value, completion.shape!, json, completion.reads ? execution.journal!.end() : undefined);
    return json;
  }
}

/** `type` unwrapped; `shape` names what the value's JSON depends on besides it, undefined when more (a resolver). */
function completionOf(type: GraphQLOutputType, fieldName: string, object: ObjectPlan | undefined): Completion {
  if (isNonNullType(type)) {
    const of = completionOf(type.ofType, fieldName, object);
    return { kind: 'nonNull', of, shape: of.shape && `${of.shape}!`, reads: of.reads };
  }
  if (isListType(type)) {
    const of = completionOf(type.ofType as GraphQLOutputType, fieldName, object);
    return { kind: 'list', of, shape: of.shape && `[${of.shape}]`, reads: of.reads };
  }
  if (isLeafType(type)) return { kind: 'leaf', type, shape: `${fieldName}:${type.name}`, reads: false };
  // Abstract types (none in this schema today) would need their runtime type resolved: the reference path answers.
  if (!isObjectType(type) || !object) return abandon();
  return { kind: 'object', plan: object, shape: object.shape && `${fieldName}${object.shape}`, reads: object.reads };
}

/** A resolver's literal arguments, as part of a shape: the same field with other arguments is another part. */
function argumentsShape(field: FieldPlan): string {
  return field.resolve && field.node.arguments?.length ? `(${JSON.stringify(field.staticArgs)})` : '';
}

function joinObject(fields: readonly FieldPlan[], values: readonly string[]): string {
  let json = '{';
  for (let i = 0; i < fields.length; i++) json += (i === 0 ? '' : ',') + fields[i]!.prefix + values[i]!;
  return `${json}}`;
}

function joinList(items: readonly string[]): string {
  // A few large parts (a page's events, each memoised whole) are concatenated as ropes: a join would copy them
  // into one more large string, which the answer's encoding copies again. Many small ones are joined.
  if (items.length > 64) return `[${items.join(',')}]`;
  let json = '[';
  for (let i = 0; i < items.length; i++) json += (i === 0 ? '' : ',') + items[i]!;
  return `${json}]`;
}

/**
 * `join` of `parts` once every promise among them has settled. Not Promise.all: that makes a promise of every
 * part, and most parts (every leaf) are strings already.
 */
function whenAll(parts: Array<string | Promise<string>>, join: (parts: readonly string[]) => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let waiting = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (typeof part === 'string') continue;
      waiting++;
      part.then((json) => {
        parts[i] = json;
        if (--waiting === 0) resolve(join(parts as string[]));
      }, reject);
    }
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** graphql-js's default resolver, except that a method (which records do not have) abandons. */
function defaultValue(source: unknown, fieldName: string): unknown {
  if (typeof source !== 'object' || source === null) return undefined;
  const value = (source as Record<string, unknown>)[fieldName];
  return typeof value === 'function' ? abandon() : value;
}

/** graphql-js's rule: @skip(if: true) or @include(if: false) leaves a selection out. */
function included(node: { directives?: readonly DirectiveNode[] }, variables: Record<string, unknown>): boolean {
  if (!node.directives?.length) return true;
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
}

function usesVariables(value: ValueNode): boolean {
  if (value.kind === Kind.VARIABLE) return true;
  if (value.kind === Kind.LIST) return value.values.some(usesVariables);
  if (value.kind === Kind.OBJECT) return value.fields.some((f) => usesVariables(f.value));
  return false;
}

/** Names of the variables that @include/@skip read anywhere in `document`. */
function directiveVariables(document: DocumentNode): Set<string> {
  const names = new Set<string>();
  visit(document, {
    Directive(node) {
      if (node.name.value !== 'include' && node.name.value !== 'skip') return;
      for (const argument of node.arguments ?? []) if (argument.value.kind === Kind.VARIABLE) names.add(argument.value.name.value);
    },
  });
  return names;
}
