import { GraphQLError } from 'graphql';

/**
 * Errors a client can act on. Each carries a stable `extensions.code`; Yoga passes GraphQLErrors
 * through unmasked, everything else is masked and logged.
 */
export class SkeinError extends GraphQLError {
  constructor(code: string, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
  }
  get code(): string {
    return this.extensions.code as string;
  }
}

export const notFound = (what: string, id: string) => new SkeinError('NOT_FOUND', `${what} ${id} does not exist`, { id });

export const illegalTransition = (what: string, action: string, status: string, hint?: string) =>
  new SkeinError('ILLEGAL_TRANSITION', `cannot ${action} ${what}: it is ${status}${hint ? ` (${hint})` : ''}`, { status, action });

export const badInput = (message: string, extra: Record<string, unknown> = {}) => new SkeinError('BAD_USER_INPUT', message, extra);
