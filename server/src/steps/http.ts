import { z } from 'zod';
import { defineStep, PermanentError } from './define.js';

const statusList = z.union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)]);

export const httpStep = defineStep({
  type: 'http',
  description: 'Calls a URL; fails on an unexpected status (4xx other than 408/429 are permanent).',
  input: z
    .object({
      url: z.url({ protocol: /^https?$/ }),
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
      expectStatus: statusList.optional(),
    })
    .strict(),
  async run(ctx) {
    const { url, method, headers, body, expectStatus } = ctx.with;
    const hasBody = body !== undefined && method !== 'GET' && method !== 'HEAD';
    const response = await fetch(url, {
      method,
      headers: { ...(hasBody && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
      body: hasBody ? (typeof body === 'string' ? body : JSON.stringify(body)) : undefined,
      signal: ctx.signal,
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const expected = expectStatus === undefined ? null : Array.isArray(expectStatus) ? expectStatus : [expectStatus];
    const ok = expected ? expected.includes(response.status) : response.status >= 200 && response.status < 300;
    if (!ok) {
      const message = `${method} ${url} answered ${response.status}`;
      const transient = response.status >= 500 || response.status === 408 || response.status === 429;
      throw transient ? new Error(message) : new PermanentError(message);
    }
    return { status: response.status, body: parsed };
  },
});
