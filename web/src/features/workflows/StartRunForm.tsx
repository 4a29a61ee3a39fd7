import { useMemo, useState } from 'react';
import { ErrorBox } from '../../app/errors';
import { json } from '../../app/format';
import { exampleInput, parseInput } from './inputCheck';
import { useStartRun } from './useStartRun';

/** The JSON input editor: checked against `inputSchema` as you type, and again by the server. */
export function StartRunForm({ workflow, version, inputSchema }: { workflow: string; version: number; inputSchema: unknown }) {
  const initial = useMemo(() => json(exampleInput(inputSchema)), [inputSchema]);
  const [text, setText] = useState(initial);
  const parsed = parseInput(text, inputSchema);
  const { state, run } = useStartRun();
  return (
    <form
      className="start-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (parsed.ok) void run(workflow, parsed.value, version);
      }}
    >
      <label htmlFor="run-input">Input (JSON)</label>
      <textarea
        id="run-input"
        data-testid="run-input"
        spellCheck={false}
        rows={Math.min(14, Math.max(4, text.split('\n').length + 1))}
        value={text}
        onChange={(e) => setText(e.target.value)}
        aria-invalid={!parsed.ok}
      />
      {!parsed.ok && (
        <ul className="faults" data-testid="input-faults">
          {parsed.faults.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      )}
      <ErrorBox error={state.error} title="The server refused the run:" />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={!parsed.ok || state.fetching}>
          ▶ Start run
        </button>
        <span className="muted small">v{version}</span>
      </div>
    </form>
  );
}
