import { useNavigate } from 'react-router-dom';
import { useMutation } from 'urql';
import { graphql } from '../../graphql';

const StartRunMutation = graphql(`
  mutation StartRun($workflow: String!, $version: Int, $input: JSON) {
    startRun(workflow: $workflow, version: $version, input: $input) {
      ...RunRow
      allowedActions
    }
  }
`);

/** Starts a run and opens it; the error (with its code) is left for the caller to show. */
export function useStartRun() {
  const [state, start] = useMutation(StartRunMutation);
  const navigate = useNavigate();
  const run = async (workflow: string, input: unknown, version?: number | null) => {
    const res = await start({ workflow, input, version: version ?? null });
    if (res.data?.startRun) navigate(`/runs/${res.data.startRun.id}`);
    return res;
  };
  return { state, run };
}
