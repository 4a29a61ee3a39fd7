import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadWorkflowFiles } from '../src/app.js';
import { ROOT, dropDatabase, startTestApp, testDatabaseUrl, type TestApp } from './support.js';

const FIXTURES = path.join(ROOT, 'server/test/fixtures/workflow-files');
const SHIPPED = path.join(ROOT, 'workflows');

let app: TestApp;
const dbUrl = testDatabaseUrl('workflow_files');

beforeAll(async () => {
  // The app loads the fixtures folder on start, as `npx skein server` would.
  app = await startTestApp({ databaseUrl: dbUrl, role: 'server', env: { WORKFLOWS_DIR: FIXTURES } });
});
afterAll(async () => {
  await app?.stop();
  await dropDatabase(dbUrl);
});

/** A logger whose JSON lines the test can read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

async function versionsOf(name: string): Promise<number[]> {
  const r = await app.ok<{ workflow: { versions: { version: number }[] } | null }>(`query($n: String!) { workflow(name: $n) { versions { version } } }`, { n: name });
  return r.workflow?.versions.map((v) => v.version) ?? [];
}

describe('workflow files', () => {
  it('registers the good files of WORKFLOWS_DIR on start and none of the bad ones', async () => {
    const { workflows } = await app.ok<{ workflows: { name: string; version: number; description: string | null; steps: { id: string }[] }[] }>(
      `{ workflows { name version description steps { id } } }`,
    );
    expect(workflows.map((w) => w.name).sort()).toEqual(['fixture-good-json', 'fixture-good-yaml']);
    const yaml = workflows.find((w) => w.name === 'fixture-good-yaml')!;
    expect(yaml).toMatchObject({ version: 1, description: 'A good YAML workflow file', steps: [{ id: 'wait' }, { id: 'done' }] });
    const json = workflows.find((w) => w.name === 'fixture-good-json')!;
    expect(json).toMatchObject({ version: 1, steps: [{ id: 'extract' }, { id: 'double' }] });
    const [rows] = (await app.db.sequelize.query(`SELECT count(*)::int AS n FROM workflows`)) as unknown as [{ n: number }[]];
    expect(rows[0].n).toBe(2);
  });

  it('reports each bad file by name in `failed`, logs why, and registers nothing of them', async () => {
    const { logger, lines } = capturingLogger();
    const result = await loadWorkflowFiles(app.engine, FIXTURES, logger);
    expect(result.loaded.sort()).toEqual(['good-etl.json', 'good-review.yaml']);
    expect(result.failed.sort()).toEqual(['bad-definition.json', 'unparseable.yaml']);
    // notes.txt is not a workflow file: neither loaded nor failed.
    expect([...result.loaded, ...result.failed]).not.toContain('notes.txt');

    const skipped = lines.filter((l) => l.msg === 'workflow file skipped');
    expect(skipped.map((l) => path.basename(String(l.file))).sort()).toEqual(['bad-definition.json', 'unparseable.yaml']);
    const bad = skipped.find((l) => String(l.file).endsWith('bad-definition.json'))!;
    const faultCodes = (bad.faults as { code: string }[]).map((f) => f.code);
    expect(faultCodes).toEqual(expect.arrayContaining(['UNKNOWN_TYPE', 'CYCLE']));
    const unparseable = skipped.find((l) => String(l.file).endsWith('unparseable.yaml'))!;
    expect(typeof unparseable.error).toBe('string');
    expect(unparseable.faults).toBeUndefined();

    expect(await versionsOf('fixture-bad-definition')).toEqual([]);
    expect(await versionsOf('fixture-unparseable')).toEqual([]);
    // Loading the same good files again makes no new versions.
    expect(await versionsOf('fixture-good-json')).toEqual([1]);
    expect(await versionsOf('fixture-good-yaml')).toEqual([1]);
    expect(lines.filter((l) => l.msg === 'workflow file loaded').every((l) => l.created === false)).toBe(true);
  });

  it('loads nothing from a folder that does not exist', async () => {
    const { logger } = capturingLogger();
    expect(await loadWorkflowFiles(app.engine, path.join(FIXTURES, 'no-such-folder'), logger)).toEqual({ loaded: [], failed: [] });
  });

  it('registers every file in the repository workflows folder', async () => {
    const files = readdirSync(SHIPPED).filter((f) => /\.(json|ya?ml)$/i.test(f)).sort();
    expect(files.length).toBeGreaterThan(0);
    const { logger } = capturingLogger();
    const result = await loadWorkflowFiles(app.engine, SHIPPED, logger);
    expect(result.failed).toEqual([]);
    expect(result.loaded).toEqual(files);
    for (const file of files) {
      const text = readFileSync(path.join(SHIPPED, file), 'utf8');
      const def = (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as { name: string; steps: unknown[] };
      const r = await app.ok<{ workflow: { name: string; version: number; steps: { id: string }[] } | null }>(
        `query($n: String!) { workflow(name: $n) { name version steps { id } } }`,
        { n: def.name },
      );
      expect(r.workflow, file).not.toBeNull();
      expect(r.workflow!.steps).toHaveLength(def.steps.length);
    }
  });
});
