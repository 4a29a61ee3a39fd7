import {
  getArgumentValues, getOperationAST, getVariableValues, isObjectType, Kind, type DocumentNode, type ExecutionArgs, type ExecutionResult,
  type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';
import { processRegularResult, type Plugin } from 'graphql-yoga';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { isUuid } from '../engine/engine.js';
import type { Context } from '../schema/builder.js';
import { eventsJson, type EventEntry, type EventField } from './events-json.js';

const EVENT_FIELDS = new Set<string>(['seq', 'runId', 'type', 'stepId', 'status', 'progress', 'attempt', 'message', 'actor', 'data', 'at', '__typename']);

/** A root or Run entry of the response: a constant `__typename` or the one field that holds the rest. */
type Entry = { key: string; typename: string } | { key: string; node: FieldNode };

/** What a `{ run(id) { events(…) { … } } }` operation asks for, read once per document. */
interface Plan {
  operation: OperationDefinitionNode;
  root: Entry[];
  run: Entry[];
  runNode: FieldNode;
  eventsNode: FieldNode;
  events: EventEntry[];
}

/**
 * The fields of selection sets by response key, in the order the normal path writes them, for one
 * object type; null for anything the fast path leaves to GraphQL: a directive (@skip, @include), a
 * fragment on another type. The order is graphql-jit's (ast.ts collectFieldsImpl), not graphql-js's:
 * a selection set's own fields first, then its fragments from a stack, the last one first.
 */
function collect(sets: readonly SelectionSetNode[], typeName: string, fragments: Map<string, FragmentDefinitionNode>): Map<string, FieldNode[]> | null {
  const fields = new Map<string, FieldNode[]>();
  // Shared by the selection sets of one field's nodes, as in graphql-jit's collectSubfields.
  const visited = new Set<string>();
  for (const set of sets) {
    const stack: SelectionSetNode[] = [set];
    while (stack.length) {
      for (const s of stack.pop()!.selections) {
        if (s.directives?.length) return null;
        if (s.kind === Kind.FIELD) {
          const key = s.alias?.value ?? s.name.value;
          const list = fields.get(key);
          if (list) list.push(s);
          else fields.set(key, [s]);
        } else if (s.kind === Kind.INLINE_FRAGMENT) {
          if (s.typeCondition && s.typeCondition.name.value !== typeName) return null;
          stack.push(s.selectionSet);
        } else {
          const name = s.name.value;
          if (visited.has(name)) continue;
          visited.add(name);
          const fragment = fragments.get(name);
          if (!fragment || fragment.directives?.length || fragment.typeCondition.name.value !== typeName) return null;
          stack.push(fragment.selectionSet);
        }
      }
    }
  }
  return fields;
}

/** The one field named `name` among `fields` (the rest `__typename`), as entries; null otherwise. */
function entriesWith(fields: Map<string, FieldNode[]>, name: string, typename: string): { entries: Entry[]; nodes: FieldNode[] } | null {
  const entries: Entry[] = [];
  let nodes: FieldNode[] | null = null;
  for (const [key, list] of fields) {
    const field = list[0].name.value;
    if (field === '__typename') entries.push({ key, typename });
    else if (field === name && !nodes) {
      nodes = list;
      entries.push({ key, node: list[0] });
    } else return null;
  }
  return nodes ? { entries, nodes } : null;
}

function planOf(document: DocumentNode, operationName: string | null | undefined): Plan | null {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'query' || operation.directives?.length) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const rootFields = collect([operation.selectionSet], 'Query', fragments);
  const root = rootFields && entriesWith(rootFields, 'run', 'Query');
  if (!root) return null;
  const runFields = collect(root.nodes.map((n) => n.selectionSet!).filter(Boolean), 'Run', fragments);
  const run = runFields && entriesWith(runFields, 'events', 'Run');
  if (!run) return null;
  const eventFields = collect(run.nodes.map((n) => n.selectionSet!).filter(Boolean), 'RunEvent', fragments);
  if (!eventFields || !eventFields.size) return null;
  const events: EventEntry[] = [];
  for (const [key, list] of eventFields) {
    const field = list[0].name.value;
    if (!EVENT_FIELDS.has(field) || list[0].selectionSet) return null;
    events.push({ key, field: field as EventField });
  }
  return { operation, root: root.entries, run: run.entries, runNode: root.nodes[0], eventsNode: run.nodes[0], events };
}

/** Where the events list goes in the response's text (no name or alias can hold it). */
const LIST = '\u0000';

/** `"key":value` pairs as an object's JSON text; `inner` for the entry that is not a `__typename`. */
function objectJson(entries: readonly Entry[], inner: string): string {
  let out = '{';
  for (const e of entries) {
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(e.key)}:${'typename' in e ? JSON.stringify(e.typename) : inner}`;
  }
  return `${out}}`;
}

/** A response's body: bytes to write in order, their length, and what to do once they have been written. */
interface Body {
  chunks: Buffer[];
  length: number;
  release(): void;
}

/**
 * The response of a `run(id) { events(…) { … } }` query as JSON text built by Postgres, or null
 * for the normal path: unknown run, bad id, variables or arguments GraphQL would refuse, values
 * only the normal path writes right. The text is exactly what execution + JSON.stringify would give.
 */
async function respond(plan: Plan, args: ExecutionArgs): Promise<Body | null> {
  const { schema } = args;
  const vars = getVariableValues(schema, plan.operation.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>);
  if (vars.errors) return null;
  const runType = schema.getType('Run');
  const runField = schema.getQueryType()?.getFields().run;
  const eventsField = isObjectType(runType) ? runType.getFields().events : undefined;
  if (!runField || !eventsField) return null;
  const { id } = getArgumentValues(runField, plan.runNode, vars.coerced) as { id: string };
  const { afterSeq, first } = getArgumentValues(eventsField, plan.eventsNode, vars.coerced) as { afterSeq?: number | null; first?: number | null };
  const limit = first ?? 1000;
  // The resolver's own errors (and run: null for a malformed id) come from the normal path.
  if (!isUuid(String(id)) || limit < 1 || limit > 10_000) return null;
  const list = await eventsJson(args.contextValue as Context, String(id).toLowerCase(), afterSeq ?? 0, limit, plan.events);
  if (list === null) return null;
  const [before, after] = `{"data":${objectJson(plan.root, objectJson(plan.run, LIST))}}`.split(LIST).map((t) => Buffer.from(t));
  return { chunks: [before, ...list.chunks, after], length: before.length + list.length + after.length, release: list.release };
}

/**
 * The media type Yoga's regular processor answers with for this request: the last of its types
 * that the `accept` header matches, as in Yoga's own choice (plugins/use-result-processor.ts,
 * result-processor/accept.ts).
 */
function regularMediaType(request: Request): string | null {
  const asked: string[] = [];
  for (const accept of (request.headers.get('accept') || '*/*').replace(/\s/g, '').toLowerCase().split(',')) {
    const [type, ...params] = accept.split(';');
    if ((params.find((p) => p.includes('charset=')) || 'charset=utf-8') === 'charset=utf-8') asked.push(type);
  }
  let chosen: string | null = null;
  for (const type of asked.reverse()) {
    const [pre, suf] = type.split('/');
    for (const mediaType of ['application/graphql-response+json', 'application/json']) {
      const [p, s] = mediaType.split('/');
      if ((pre === '*' || pre === p) && (suf === '*' || suf === s)) chosen = mediaType;
    }
  }
  return chosen;
}

/** The bytes of a fast result: written as they are into a regular response, or joined once where a string of them is needed. */
class FastBody {
  private joined: Buffer | null = null;
  private taken = false;
  private released = false;

  constructor(private readonly body: Body) {}

  /** All of it in one buffer (its chunks' memory is free after this, unless they are being written). */
  whole(): Buffer {
    if (!this.joined) {
      // Their memory holds another answer once the response that wrote them is done.
      if (this.released) throw new Error('run.events fast path: the result was written and its bytes are gone');
      this.joined = Buffer.concat(this.body.chunks, this.body.length);
      if (!this.taken) this.body.release();
    }
    return this.joined;
  }

  /** The chunks to write (`release` once written), or the joined buffer if there is one. */
  take(): Body {
    if (this.joined || this.taken) return { chunks: [this.whole()], length: this.body.length, release: () => undefined };
    this.taken = true;
    return {
      ...this.body,
      release: () => {
        this.released = true;
        this.body.release();
      },
    };
  }
}

/**
 * `run(id) { events(…) { … } }` over HTTP without decoding 10,000 rows into objects and writing
 * them again: Postgres writes the events' JSON text and it goes into the response as it is. Every
 * call reads the database. Any other shape, and anything unusual, takes the normal (compiled)
 * execution. After useGraphQlJit: the fallback is its executor.
 *
 * A regular JSON response gets the bytes as they came, in their chunks, with their length (what
 * Yoga's own processor would write, without joining them first); the memory they are in is used
 * again once the response has been written. Anything else (SSE, multipart) gets them joined,
 * through the result's `stringify`.
 */
export function runEventsFastPath(opts: { onError(err: unknown): void; onOutcome(path: 'fast' | 'normal'): void }): Plugin {
  const plans = new WeakMap<DocumentNode, Map<string, Plan | null>>();
  const bodies = new WeakMap<object, FastBody>();
  const planFor = (args: ExecutionArgs): Plan | null => {
    let byName = plans.get(args.document);
    if (!byName) plans.set(args.document, (byName = new Map()));
    const name = args.operationName ?? '';
    let plan = byName.get(name);
    if (plan === undefined) byName.set(name, (plan = planOf(args.document, args.operationName)));
    return plan;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      // HTTP only: a graphql-ws result is written by graphql-ws, which knows no `stringify`.
      if (!(args.contextValue as { request?: unknown } | undefined)?.request) return;
      const plan = planFor(args);
      if (!plan) return;
      setExecuteFn(async (a: ExecutionArgs) => {
        let body: Body | null = null;
        try {
          body = await respond(plan, a);
        } catch (err) {
          // Reported by the normal path as GraphQL reports it, if it fails there too.
          opts.onError(err);
        }
        opts.onOutcome(body === null ? 'normal' : 'fast');
        if (body === null) return executeFn(a);
        const fast = new FastBody(body);
        let data: unknown;
        // Yoga writes a result with `stringify` by calling it (the bytes turn into the same text
        // wherever a string is made of them), unless onResultProcess below writes it first.
        const result = {
          // For anyone reading the result as a value (plugins): parsed only if asked.
          get data() {
            return (data ??= (JSON.parse(fast.whole().toString()) as { data: unknown }).data);
          },
          stringify: () => fast.whole(),
        };
        bodies.set(result, fast);
        return result as ExecutionResult;
      });
    },
    // After Yoga's own choice of processor (its plugin comes before ours).
    onResultProcess({ request, result, resultProcessor, setResultProcessor, serverContext }) {
      const fast = bodies.get(result as object);
      if (!fast || resultProcessor !== processRegularResult) return;
      const mediaType = regularMediaType(request);
      if (!mediaType) return;
      setResultProcessor((_result, fetchAPI) => {
        const body = fast.take();
        // The chunks' memory is used again once they have been written; without a Node response
        // to tell when, it is left to the garbage collector.
        const res = (serverContext as { res?: ServerResponse } | undefined)?.res;
        if (typeof res?.once === 'function') res.once('close', () => body.release());
        // A Node stream: Yoga's Response (and undici's) take it as a body of bytes.
        return new fetchAPI.Response(Readable.from(body.chunks) as unknown as BodyInit, {
          status: 200,
          headers: { 'Content-Type': `${mediaType}; charset=utf-8`, 'content-length': String(body.length) },
        });
      }, mediaType);
    },
  };
}
