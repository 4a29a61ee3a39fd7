/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  subscription RunsChanged {\n    runsChanged {\n      ...RunRow\n      allowedActions\n    }\n  }\n": typeof types.RunsChangedDocument,
    "\n  query QueuesAndWorkers {\n    queues {\n      name\n      queued\n      active\n      deferred\n      completed\n      failed\n      cancelled\n      liveWorkers\n      oldestQueuedAt\n      warning\n    }\n    workers {\n      id\n      hostname\n      pid\n      alive\n      concurrency\n      running\n      stepTypes\n      startedAt\n      heartbeatAt\n    }\n  }\n": typeof types.QueuesAndWorkersDocument,
    "\n  mutation PauseRun($id: ID!, $reason: String) {\n    pauseRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n": typeof types.PauseRunDocument,
    "\n  mutation ResumeRun($id: ID!, $reason: String) {\n    resumeRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n": typeof types.ResumeRunDocument,
    "\n  mutation CancelRun($id: ID!, $reason: String) {\n    cancelRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n": typeof types.CancelRunDocument,
    "\n  mutation RetryRun($id: ID!, $reason: String) {\n    retryRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n": typeof types.RetryRunDocument,
    "\n  fragment RunHeader on Run {\n    ...RunRow\n    allowedActions\n    createdBy\n    idempotencyKey\n    input\n    output\n    lastSeq\n    error {\n      message\n      code\n      stack\n      stepId\n    }\n  }\n": typeof types.RunHeaderFragmentDoc,
    "\n  query RunHeader($id: ID!) {\n    run(id: $id) {\n      ...RunHeader\n    }\n  }\n": typeof types.RunHeaderDocument,
    "\n  subscription RunUpdated($id: ID!) {\n    runUpdated(id: $id) {\n      ...RunHeader\n    }\n  }\n": typeof types.RunUpdatedDocument,
    "\n  query Runs($status: [RunStatus!], $first: Int!, $after: String) {\n    runs(status: $status, first: $first, after: $after) {\n      totalCount\n      nodes {\n        ...RunRow\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": typeof types.RunsDocument,
    "\n  fragment RunRow on Run {\n    id\n    status\n    workflowName\n    workflowVersion\n    progress\n    stepsDone\n    stepsTotal\n    createdAt\n    startedAt\n    finishedAt\n    durationMs\n    updatedAt\n    error {\n      message\n      code\n    }\n  }\n": typeof types.RunRowFragmentDoc,
    "\n  query StepDetails($id: ID!, $stepId: String!) {\n    run(id: $id) {\n      id\n      step(stepId: $stepId) {\n        id\n        stepId\n        status\n        attempt\n        output\n        with\n        skipReason\n        workerId\n        error {\n          message\n          code\n          stack\n        }\n        attempts {\n          attempt\n          status\n          startedAt\n          finishedAt\n          workerId\n          error {\n            message\n            code\n          }\n        }\n      }\n    }\n  }\n": typeof types.StepDetailsDocument,
    "\n  query StepDefs($name: String!, $version: Int!) {\n    workflow(name: $name, version: $version) {\n      id\n      steps {\n        id\n        retry\n        timeoutMs\n        if\n        trigger\n      }\n    }\n  }\n": typeof types.StepDefsDocument,
    "\n  query StepLogs($id: ID!, $stepId: String!, $after: Int, $first: Int!) {\n    run(id: $id) {\n      id\n      step(stepId: $stepId) {\n        id\n        logs(after: $after, first: $first) {\n          id\n          at\n          attempt\n          line\n        }\n      }\n    }\n  }\n": typeof types.StepLogsDocument,
    "\n  mutation ApproveStep($runId: ID!, $stepId: String!, $approved: Boolean!, $comment: String) {\n    approveStep(runId: $runId, stepId: $stepId, approved: $approved, comment: $comment) {\n      id\n      stepId\n      status\n      output\n    }\n  }\n": typeof types.ApproveStepDocument,
    "\n  query RunSteps($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      lastSeq\n      steps {\n        stepId\n        type\n        status\n        attempt\n        maxAttempts\n        progress\n        progressMessage\n        needs\n        startedAt\n        finishedAt\n        attempts {\n          attempt\n          status\n          startedAt\n          finishedAt\n          error {\n            message\n            code\n          }\n        }\n      }\n    }\n  }\n": typeof types.RunStepsDocument,
    "\n  fragment RunEventFields on RunEvent {\n    seq\n    type\n    stepId\n    status\n    progress\n    attempt\n    message\n    actor\n    at\n    data\n  }\n": typeof types.RunEventFieldsFragmentDoc,
    "\n  subscription RunEvents($runId: ID!, $afterSeq: Int) {\n    runEvents(runId: $runId, afterSeq: $afterSeq) {\n      ...RunEventFields\n    }\n  }\n": typeof types.RunEventsDocument,
    "\n  query Workflow($name: String!, $version: Int) {\n    workflow(name: $name, version: $version) {\n      id\n      name\n      version\n      latestVersion\n      description\n      checksum\n      inputSchema\n      definition\n      steps {\n        id\n        type\n        needs\n        trigger\n        if\n        timeoutMs\n        retry\n      }\n      versions {\n        id\n        version\n        createdAt\n      }\n      runs(first: 20) {\n        totalCount\n        nodes {\n          ...RunRow\n        }\n      }\n    }\n  }\n": typeof types.WorkflowDocument,
    "\n  query Workflows {\n    workflows {\n      id\n      name\n      version\n      description\n      createdAt\n      inputSchema\n      steps {\n        id\n      }\n      versions {\n        id\n        version\n      }\n      runs(first: 5) {\n        totalCount\n        nodes {\n          ...RunRow\n        }\n      }\n    }\n  }\n": typeof types.WorkflowsDocument,
    "\n  mutation StartRun($workflow: String!, $version: Int, $input: JSON) {\n    startRun(workflow: $workflow, version: $version, input: $input) {\n      ...RunRow\n      allowedActions\n    }\n  }\n": typeof types.StartRunDocument,
};
const documents: Documents = {
    "\n  subscription RunsChanged {\n    runsChanged {\n      ...RunRow\n      allowedActions\n    }\n  }\n": types.RunsChangedDocument,
    "\n  query QueuesAndWorkers {\n    queues {\n      name\n      queued\n      active\n      deferred\n      completed\n      failed\n      cancelled\n      liveWorkers\n      oldestQueuedAt\n      warning\n    }\n    workers {\n      id\n      hostname\n      pid\n      alive\n      concurrency\n      running\n      stepTypes\n      startedAt\n      heartbeatAt\n    }\n  }\n": types.QueuesAndWorkersDocument,
    "\n  mutation PauseRun($id: ID!, $reason: String) {\n    pauseRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n": types.PauseRunDocument,
    "\n  mutation ResumeRun($id: ID!, $reason: String) {\n    resumeRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n": types.ResumeRunDocument,
    "\n  mutation CancelRun($id: ID!, $reason: String) {\n    cancelRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n": types.CancelRunDocument,
    "\n  mutation RetryRun($id: ID!, $reason: String) {\n    retryRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n": types.RetryRunDocument,
    "\n  fragment RunHeader on Run {\n    ...RunRow\n    allowedActions\n    createdBy\n    idempotencyKey\n    input\n    output\n    lastSeq\n    error {\n      message\n      code\n      stack\n      stepId\n    }\n  }\n": types.RunHeaderFragmentDoc,
    "\n  query RunHeader($id: ID!) {\n    run(id: $id) {\n      ...RunHeader\n    }\n  }\n": types.RunHeaderDocument,
    "\n  subscription RunUpdated($id: ID!) {\n    runUpdated(id: $id) {\n      ...RunHeader\n    }\n  }\n": types.RunUpdatedDocument,
    "\n  query Runs($status: [RunStatus!], $first: Int!, $after: String) {\n    runs(status: $status, first: $first, after: $after) {\n      totalCount\n      nodes {\n        ...RunRow\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n": types.RunsDocument,
    "\n  fragment RunRow on Run {\n    id\n    status\n    workflowName\n    workflowVersion\n    progress\n    stepsDone\n    stepsTotal\n    createdAt\n    startedAt\n    finishedAt\n    durationMs\n    updatedAt\n    error {\n      message\n      code\n    }\n  }\n": types.RunRowFragmentDoc,
    "\n  query StepDetails($id: ID!, $stepId: String!) {\n    run(id: $id) {\n      id\n      step(stepId: $stepId) {\n        id\n        stepId\n        status\n        attempt\n        output\n        with\n        skipReason\n        workerId\n        error {\n          message\n          code\n          stack\n        }\n        attempts {\n          attempt\n          status\n          startedAt\n          finishedAt\n          workerId\n          error {\n            message\n            code\n          }\n        }\n      }\n    }\n  }\n": types.StepDetailsDocument,
    "\n  query StepDefs($name: String!, $version: Int!) {\n    workflow(name: $name, version: $version) {\n      id\n      steps {\n        id\n        retry\n        timeoutMs\n        if\n        trigger\n      }\n    }\n  }\n": types.StepDefsDocument,
    "\n  query StepLogs($id: ID!, $stepId: String!, $after: Int, $first: Int!) {\n    run(id: $id) {\n      id\n      step(stepId: $stepId) {\n        id\n        logs(after: $after, first: $first) {\n          id\n          at\n          attempt\n          line\n        }\n      }\n    }\n  }\n": types.StepLogsDocument,
    "\n  mutation ApproveStep($runId: ID!, $stepId: String!, $approved: Boolean!, $comment: String) {\n    approveStep(runId: $runId, stepId: $stepId, approved: $approved, comment: $comment) {\n      id\n      stepId\n      status\n      output\n    }\n  }\n": types.ApproveStepDocument,
    "\n  query RunSteps($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      lastSeq\n      steps {\n        stepId\n        type\n        status\n        attempt\n        maxAttempts\n        progress\n        progressMessage\n        needs\n        startedAt\n        finishedAt\n        attempts {\n          attempt\n          status\n          startedAt\n          finishedAt\n          error {\n            message\n            code\n          }\n        }\n      }\n    }\n  }\n": types.RunStepsDocument,
    "\n  fragment RunEventFields on RunEvent {\n    seq\n    type\n    stepId\n    status\n    progress\n    attempt\n    message\n    actor\n    at\n    data\n  }\n": types.RunEventFieldsFragmentDoc,
    "\n  subscription RunEvents($runId: ID!, $afterSeq: Int) {\n    runEvents(runId: $runId, afterSeq: $afterSeq) {\n      ...RunEventFields\n    }\n  }\n": types.RunEventsDocument,
    "\n  query Workflow($name: String!, $version: Int) {\n    workflow(name: $name, version: $version) {\n      id\n      name\n      version\n      latestVersion\n      description\n      checksum\n      inputSchema\n      definition\n      steps {\n        id\n        type\n        needs\n        trigger\n        if\n        timeoutMs\n        retry\n      }\n      versions {\n        id\n        version\n        createdAt\n      }\n      runs(first: 20) {\n        totalCount\n        nodes {\n          ...RunRow\n        }\n      }\n    }\n  }\n": types.WorkflowDocument,
    "\n  query Workflows {\n    workflows {\n      id\n      name\n      version\n      description\n      createdAt\n      inputSchema\n      steps {\n        id\n      }\n      versions {\n        id\n        version\n      }\n      runs(first: 5) {\n        totalCount\n        nodes {\n          ...RunRow\n        }\n      }\n    }\n  }\n": types.WorkflowsDocument,
    "\n  mutation StartRun($workflow: String!, $version: Int, $input: JSON) {\n    startRun(workflow: $workflow, version: $version, input: $input) {\n      ...RunRow\n      allowedActions\n    }\n  }\n": types.StartRunDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RunsChanged {\n    runsChanged {\n      ...RunRow\n      allowedActions\n    }\n  }\n"): (typeof documents)["\n  subscription RunsChanged {\n    runsChanged {\n      ...RunRow\n      allowedActions\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query QueuesAndWorkers {\n    queues {\n      name\n      queued\n      active\n      deferred\n      completed\n      failed\n      cancelled\n      liveWorkers\n      oldestQueuedAt\n      warning\n    }\n    workers {\n      id\n      hostname\n      pid\n      alive\n      concurrency\n      running\n      stepTypes\n      startedAt\n      heartbeatAt\n    }\n  }\n"): (typeof documents)["\n  query QueuesAndWorkers {\n    queues {\n      name\n      queued\n      active\n      deferred\n      completed\n      failed\n      cancelled\n      liveWorkers\n      oldestQueuedAt\n      warning\n    }\n    workers {\n      id\n      hostname\n      pid\n      alive\n      concurrency\n      running\n      stepTypes\n      startedAt\n      heartbeatAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PauseRun($id: ID!, $reason: String) {\n    pauseRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n"): (typeof documents)["\n  mutation PauseRun($id: ID!, $reason: String) {\n    pauseRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResumeRun($id: ID!, $reason: String) {\n    resumeRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n"): (typeof documents)["\n  mutation ResumeRun($id: ID!, $reason: String) {\n    resumeRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelRun($id: ID!, $reason: String) {\n    cancelRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n"): (typeof documents)["\n  mutation CancelRun($id: ID!, $reason: String) {\n    cancelRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryRun($id: ID!, $reason: String) {\n    retryRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n"): (typeof documents)["\n  mutation RetryRun($id: ID!, $reason: String) {\n    retryRun(id: $id, reason: $reason) { ...RunRow allowedActions }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RunHeader on Run {\n    ...RunRow\n    allowedActions\n    createdBy\n    idempotencyKey\n    input\n    output\n    lastSeq\n    error {\n      message\n      code\n      stack\n      stepId\n    }\n  }\n"): (typeof documents)["\n  fragment RunHeader on Run {\n    ...RunRow\n    allowedActions\n    createdBy\n    idempotencyKey\n    input\n    output\n    lastSeq\n    error {\n      message\n      code\n      stack\n      stepId\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunHeader($id: ID!) {\n    run(id: $id) {\n      ...RunHeader\n    }\n  }\n"): (typeof documents)["\n  query RunHeader($id: ID!) {\n    run(id: $id) {\n      ...RunHeader\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RunUpdated($id: ID!) {\n    runUpdated(id: $id) {\n      ...RunHeader\n    }\n  }\n"): (typeof documents)["\n  subscription RunUpdated($id: ID!) {\n    runUpdated(id: $id) {\n      ...RunHeader\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Runs($status: [RunStatus!], $first: Int!, $after: String) {\n    runs(status: $status, first: $first, after: $after) {\n      totalCount\n      nodes {\n        ...RunRow\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n"): (typeof documents)["\n  query Runs($status: [RunStatus!], $first: Int!, $after: String) {\n    runs(status: $status, first: $first, after: $after) {\n      totalCount\n      nodes {\n        ...RunRow\n      }\n      pageInfo {\n        endCursor\n        hasNextPage\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RunRow on Run {\n    id\n    status\n    workflowName\n    workflowVersion\n    progress\n    stepsDone\n    stepsTotal\n    createdAt\n    startedAt\n    finishedAt\n    durationMs\n    updatedAt\n    error {\n      message\n      code\n    }\n  }\n"): (typeof documents)["\n  fragment RunRow on Run {\n    id\n    status\n    workflowName\n    workflowVersion\n    progress\n    stepsDone\n    stepsTotal\n    createdAt\n    startedAt\n    finishedAt\n    durationMs\n    updatedAt\n    error {\n      message\n      code\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StepDetails($id: ID!, $stepId: String!) {\n    run(id: $id) {\n      id\n      step(stepId: $stepId) {\n        id\n        stepId\n        status\n        attempt\n        output\n        with\n        skipReason\n        workerId\n        error {\n          message\n          code\n          stack\n        }\n        attempts {\n          attempt\n          status\n          startedAt\n          finishedAt\n          workerId\n          error {\n            message\n            code\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query StepDetails($id: ID!, $stepId: String!) {\n    run(id: $id) {\n      id\n      step(stepId: $stepId) {\n        id\n        stepId\n        status\n        attempt\n        output\n        with\n        skipReason\n        workerId\n        error {\n          message\n          code\n          stack\n        }\n        attempts {\n          attempt\n          status\n          startedAt\n          finishedAt\n          workerId\n          error {\n            message\n            code\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StepDefs($name: String!, $version: Int!) {\n    workflow(name: $name, version: $version) {\n      id\n      steps {\n        id\n        retry\n        timeoutMs\n        if\n        trigger\n      }\n    }\n  }\n"): (typeof documents)["\n  query StepDefs($name: String!, $version: Int!) {\n    workflow(name: $name, version: $version) {\n      id\n      steps {\n        id\n        retry\n        timeoutMs\n        if\n        trigger\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StepLogs($id: ID!, $stepId: String!, $after: Int, $first: Int!) {\n    run(id: $id) {\n      id\n      step(stepId: $stepId) {\n        id\n        logs(after: $after, first: $first) {\n          id\n          at\n          attempt\n          line\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query StepLogs($id: ID!, $stepId: String!, $after: Int, $first: Int!) {\n    run(id: $id) {\n      id\n      step(stepId: $stepId) {\n        id\n        logs(after: $after, first: $first) {\n          id\n          at\n          attempt\n          line\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ApproveStep($runId: ID!, $stepId: String!, $approved: Boolean!, $comment: String) {\n    approveStep(runId: $runId, stepId: $stepId, approved: $approved, comment: $comment) {\n      id\n      stepId\n      status\n      output\n    }\n  }\n"): (typeof documents)["\n  mutation ApproveStep($runId: ID!, $stepId: String!, $approved: Boolean!, $comment: String) {\n    approveStep(runId: $runId, stepId: $stepId, approved: $approved, comment: $comment) {\n      id\n      stepId\n      status\n      output\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunSteps($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      lastSeq\n      steps {\n        stepId\n        type\n        status\n        attempt\n        maxAttempts\n        progress\n        progressMessage\n        needs\n        startedAt\n        finishedAt\n        attempts {\n          attempt\n          status\n          startedAt\n          finishedAt\n          error {\n            message\n            code\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query RunSteps($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      lastSeq\n      steps {\n        stepId\n        type\n        status\n        attempt\n        maxAttempts\n        progress\n        progressMessage\n        needs\n        startedAt\n        finishedAt\n        attempts {\n          attempt\n          status\n          startedAt\n          finishedAt\n          error {\n            message\n            code\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RunEventFields on RunEvent {\n    seq\n    type\n    stepId\n    status\n    progress\n    attempt\n    message\n    actor\n    at\n    data\n  }\n"): (typeof documents)["\n  fragment RunEventFields on RunEvent {\n    seq\n    type\n    stepId\n    status\n    progress\n    attempt\n    message\n    actor\n    at\n    data\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RunEvents($runId: ID!, $afterSeq: Int) {\n    runEvents(runId: $runId, afterSeq: $afterSeq) {\n      ...RunEventFields\n    }\n  }\n"): (typeof documents)["\n  subscription RunEvents($runId: ID!, $afterSeq: Int) {\n    runEvents(runId: $runId, afterSeq: $afterSeq) {\n      ...RunEventFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Workflow($name: String!, $version: Int) {\n    workflow(name: $name, version: $version) {\n      id\n      name\n      version\n      latestVersion\n      description\n      checksum\n      inputSchema\n      definition\n      steps {\n        id\n        type\n        needs\n        trigger\n        if\n        timeoutMs\n        retry\n      }\n      versions {\n        id\n        version\n        createdAt\n      }\n      runs(first: 20) {\n        totalCount\n        nodes {\n          ...RunRow\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Workflow($name: String!, $version: Int) {\n    workflow(name: $name, version: $version) {\n      id\n      name\n      version\n      latestVersion\n      description\n      checksum\n      inputSchema\n      definition\n      steps {\n        id\n        type\n        needs\n        trigger\n        if\n        timeoutMs\n        retry\n      }\n      versions {\n        id\n        version\n        createdAt\n      }\n      runs(first: 20) {\n        totalCount\n        nodes {\n          ...RunRow\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Workflows {\n    workflows {\n      id\n      name\n      version\n      description\n      createdAt\n      inputSchema\n      steps {\n        id\n      }\n      versions {\n        id\n        version\n      }\n      runs(first: 5) {\n        totalCount\n        nodes {\n          ...RunRow\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Workflows {\n    workflows {\n      id\n      name\n      version\n      description\n      createdAt\n      inputSchema\n      steps {\n        id\n      }\n      versions {\n        id\n        version\n      }\n      runs(first: 5) {\n        totalCount\n        nodes {\n          ...RunRow\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartRun($workflow: String!, $version: Int, $input: JSON) {\n    startRun(workflow: $workflow, version: $version, input: $input) {\n      ...RunRow\n      allowedActions\n    }\n  }\n"): (typeof documents)["\n  mutation StartRun($workflow: String!, $version: Int, $input: JSON) {\n    startRun(workflow: $workflow, version: $version, input: $input) {\n      ...RunRow\n      allowedActions\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;