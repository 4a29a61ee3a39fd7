import { createSourceEventStream, execute, print, type DefinitionNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Execute a live run event once per operation shape and hand the same result to every subscriber.
 *
 * A run's live events reach all subscribers of that run as the same object (one shared feed per
 * process), so the result of executing operation X on event E is memoised in a WeakMap on E. With
 * 1,000 subscribers on a run, an event costs one execution instead of 1,000. Only `runEvents` is
 * shared: its fields depend on the event alone, never on who asks (context).
 */
export function shareSubscriptionResults(): Plugin {
  const results = new WeakMap<object, Map<string, ExecutionResult>>();
  return {
    onSubscribe({ args, setSubscribeFn }) {
      const operation = args.document.definitions.find((d: DefinitionNode) => d.kind === 'OperationDefinition');
      const fields = operation && 'selectionSet' in operation ? operation.selectionSet.selections : [];
      if (fields.length !== 1 || fields[0].kind !== 'Field' || fields[0].name.value !== 'runEvents') return;
      const { afterSeq: _ignored, ...vars } = (args.variableValues ?? {}) as Record<string, unknown>;
      const key = `${print(args.document)}\n${JSON.stringify(vars)}\n${args.operationName ?? ''}`;
      setSubscribeFn(async (a: ExecutionArgs) => {
        const stream = await createSourceEventStream(a);
        if (!(Symbol.asyncIterator in stream)) return stream as ExecutionResult;
        const source = stream as AsyncGenerator<unknown>;
        const mapped: AsyncGenerator<ExecutionResult> = {
          async next() {
            const item = await source.next();
            if (item.done) return { done: true, value: undefined };
            const payload = item.value;
            if (typeof payload !== 'object' || payload === null) return { done: false, value: await execute({ ...a, rootValue: payload }) };
            let byKey = results.get(payload);
            if (!byKey) results.set(payload, (byKey = new Map()));
            let result = byKey.get(key);
            if (!result) {
              result = await execute({ ...a, rootValue: payload });
              byKey.set(key, result);
            }
            return { done: false, value: result };
          },
          return: (value?: unknown) => source.return(value) as Promise<IteratorResult<ExecutionResult>>,
          throw: (err?: unknown) => source.throw(err) as Promise<IteratorResult<ExecutionResult>>,
          [Symbol.asyncIterator]() {
            return this;
          },
        } as AsyncGenerator<ExecutionResult>;
        return mapped;
      });
    },
  };
}
