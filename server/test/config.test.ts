import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';
import { runSkein } from './support.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('parseConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      SKEIN_DATA_DIR: './.skein',
      PORT: 4000,
      WORKER_CONCURRENCY: 10,
      WORKFLOWS_DIR: './workflows',
      LOG_LEVEL: 'info',
    });
    expect(config.STEP_TYPES_MODULE).toBeUndefined();
    // Unset means the embedded Postgres and the in-process bus (role `all`).
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });

  it('treats empty values as unset and ignores unrelated variables', () => {
    const config = parseConfig({ PORT: '', LOG_LEVEL: '', HOME: '/root', SOMETHING_ELSE: 'x' });
    expect(config.PORT).toBe(4000);
    expect(config.LOG_LEVEL).toBe('info');
    expect(config).not.toHaveProperty('SOMETHING_ELSE');
  });

  it('parses given values into their types', () => {
    const config = parseConfig({
      DATABASE_URL: 'postgresql://u:p@db.example:5433/other',
      REDIS_URL: 'rediss://cache.example:6380',
      PORT: '8080',
      WORKER_CONCURRENCY: '3',
      WORKFLOWS_DIR: '/srv/workflows',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      DATABASE_URL: 'postgresql://u:p@db.example:5433/other',
      REDIS_URL: 'rediss://cache.example:6380',
      PORT: 8080,
      WORKER_CONCURRENCY: 3,
      WORKFLOWS_DIR: '/srv/workflows',
      LOG_LEVEL: 'debug',
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '1.5'],
    ['WORKER_CONCURRENCY', '0'],
    ['WORKER_CONCURRENCY', '-2'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s with a ConfigError naming the variable', (name, value) => {
    const err = thrown(() => parseConfig({ [name]: value }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(name);
  });

  it('names every bad variable at once', () => {
    const err = thrown(() => parseConfig({ PORT: 'abc', WORKER_CONCURRENCY: '0', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' }));
    expect(err).toBeInstanceOf(ConfigError);
    for (const name of ['PORT', 'WORKER_CONCURRENCY', 'DATABASE_URL', 'LOG_LEVEL']) expect((err as Error).message).toContain(name);
  });
});

describe('the skein command', () => {
  it('exits 1 with one line on stderr naming PORT when PORT is bad', async () => {
    const { code, stderr, stdout } = await runSkein(['server'], { PORT: 'abc', LOG_LEVEL: 'silent' }, 15_000);
    expect(code).toBe(1);
    const lines = stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toContain('PORT');
    expect(stdout).toBe('');
  });

  it('exits 2 with the usage for an unknown command', async () => {
    const { code, stderr } = await runSkein(['bogus'], {}, 15_000);
    expect(code).toBe(2);
    expect(stderr).toContain('bogus');
    expect(stderr).toMatch(/usage: skein/);
    for (const role of ['server', 'worker', 'all', 'migrate']) expect(stderr).toContain(role);
  });
});
