import type { CombinedError } from 'urql';

/** One API error in words: its message and its stable code. */
export interface ShownError {
  message: string;
  code?: string;
}

export function errorsOf(error: CombinedError | Error | undefined | null): ShownError[] {
  if (!error) return [];
  if ('graphQLErrors' in error) {
    const list: ShownError[] = error.graphQLErrors.map((e) => ({
      message: e.message,
      code: typeof e.extensions?.code === 'string' ? e.extensions.code : undefined,
    }));
    if (error.networkError) list.push({ message: error.networkError.message, code: 'NETWORK_ERROR' });
    return list.length ? list : [{ message: error.message }];
  }
  return [{ message: error.message }];
}

export function ErrorBox({ error, title }: { error: CombinedError | Error | undefined | null; title?: string }) {
  const list = errorsOf(error);
  if (list.length === 0) return null;
  return (
    <div className="error-box" role="alert" data-testid="error">
      {title && <strong>{title}</strong>}
      {list.map((e, i) => (
        <div key={i}>
          {e.code && <code className="error-code">{e.code}</code>} {e.message}
        </div>
      ))}
    </div>
  );
}
