import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dropDatabase, register, ROOT, start, startTestApp, stepOf, testDatabaseUrl, waitForRun, type TestApp } from './support.js';

let app: TestApp;
const dbUrl = testDatabaseUrl('user_steps');

beforeAll(async () => {
  app = await startTestApp({ databaseUrl: dbUrl, env: { STEP_TYPES_MODULE: path.join(ROOT, 'examples/step-types.ts') } });
});
afterAll(async () => {
  await app?.stop();
  await dropDatabase(dbUrl);
});

it('loads user step types from STEP_TYPES_MODULE, validates their `with`, and runs them', async () => {
  const types = await app.ok<{ stepTypes: { type: string }[] }>(`{ stepTypes { type } }`);
  expect(types.stepTypes.map((t) => t.type)).toContain('word-count');
  const bad = await app.gql(`mutation($d: JSON!) { registerWorkflow(definition: $d) { version } }`, {
    d: { name: 'bad-words', steps: [{ id: 'w', type: 'word-count', with: { txt: 'typo' } }] },
  });
  expect(bad.errors?.[0].extensions?.code).toBe('INVALID_DEFINITION');
  await register(app, {
    name: 'words',
    steps: [
      { id: 'fetch', type: 'transform', with: { expression: 'input.text' } },
      { id: 'count', type: 'word-count', needs: ['fetch'], with: { fromStep: 'fetch' } },
    ],
  });
  const run = await waitForRun(app, await start(app, 'words', { text: 'the cat saw the dog' }), ['SUCCEEDED', 'FAILED']);
  expect(stepOf(run, 'count').output).toEqual({ total: 5, distinct: 4 });
  const logs = await app.ok<{ run: { steps: { stepId: string; logs: { line: string }[] }[] } }>(
    `query($id: ID!) { run(id: $id) { steps { stepId logs { line } } } }`,
    { id: run.id },
  );
  expect(logs.run.steps.find((s) => s.stepId === 'count')!.logs.map((l) => l.line)).toEqual(['counted 5 words, 4 distinct']);
});
