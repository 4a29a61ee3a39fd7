import type { RetryPolicy } from './dag.js';

/** Attempts a lost worker is always granted, even with no retry policy (PRODUCT.md). */
export const LOST_WORKER_MIN_RETRIES = 2;

/** Retries allowed after the first attempt of a series, for a failure of this kind. */
export function retriesAllowed(policy: RetryPolicy | undefined, code: string): number {
  const limit = policy?.limit ?? 0;
  return code === 'WORKER_LOST' ? Math.max(limit, LOST_WORKER_MIN_RETRIES) : limit;
}

/** Delay before retry number `retry` (1 = first retry). Full jitter keeps 50–100 % of the delay. */
export function retryDelayMs(policy: RetryPolicy | undefined, retry: number, random = Math.random): number {
  if (!policy) return 0;
  const base = policy.backoff === 'exponential' ? policy.delayMs * 2 ** Math.max(0, retry - 1) : policy.delayMs;
  const capped = Math.min(base, policy.maxDelayMs ?? Number.MAX_SAFE_INTEGER);
  return Math.round(policy.jitter ? capped * (0.5 + random() * 0.5) : capped);
}
