import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import {
  cancelProblem,
  endingOf,
  initialMachine,
  outputsProblem,
  reduce,
  toRunError,
  type RunEvent,
  type RunMachine,
} from '../../workflows/runMachine';

const EXPIRES = 2_000_000_000;
const call = (id: string) => ({ id, type: 'function' as const, function: { name: 'f', arguments: '{}' } });
const run = (...events: RunEvent[]) => events.reduce(reduce, initialMachine(EXPIRES));
const waiting = () =>
  run({ type: 'model_step_started', at: 10 }, { type: 'tool_calls_pending', calls: [call('call_a'), call('call_b')] });
const both = {
  tool_outputs: [
    { tool_call_id: 'call_a', output: 'A' },
    { tool_call_id: 'call_b', output: 'B' },
  ],
};

describe('run machine: transitions', () => {
  it('starts queued at version 1 and bumps the version on every visible change only', () => {
    const m0 = initialMachine(EXPIRES);
    expect(m0.run).toMatchObject({ status: 'queued', version: 1, expires_at: EXPIRES, usage: null });
    const m1 = reduce(m0, { type: 'model_step_started', at: 10 });
    expect(m1.run).toMatchObject({ status: 'in_progress', version: 2, started_at: 10 });
    const m2 = reduce(m1, {
      type: 'usage_reported',
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
    expect(m2.run.version).toBe(2);
    expect(m2.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    expect(m0.run.status).toBe('queued'); // never mutated
  });

  it('stays in progress between rounds of built-in tools (no second in_progress event)', () => {
    const m = run({ type: 'model_step_started', at: 10 });
    expect(reduce(m, { type: 'model_step_started', at: 11 })).toBe(m);
  });

  it('waits on function calls, then takes outputs back to queued with required_action cleared', () => {
    const m = waiting();
    expect(m.run).toMatchObject({
      status: 'requires_action',
      required_action: {
        type: 'submit_tool_outputs',
        submit_tool_outputs: { tool_calls: [call('call_a'), call('call_b')] },
      },
    });
    const accepted = reduce(m, { type: 'outputs_accepted', payload: both });
    expect(accepted.run).toMatchObject({ status: 'queued', required_action: null, version: m.run.version + 1 });
    expect(accepted.outputs).toEqual({ outputs: both.tool_outputs, storedAs: undefined });
    const stored = reduce(m, {
      type: 'outputs_accepted',
      payload: { tool_outputs: [{ tool_call_id: 'call_a' }, { tool_call_id: 'call_b' }], stored_as: 'submit-x' },
    });
    expect(stored.outputs).toEqual({ outputs: [], storedAs: 'submit-x' });
    expect(reduce(stored, { type: 'outputs_recorded' })).toMatchObject({ pending: [], outputs: null });
  });

  it('ends completed and incomplete with the run-wide usage and no expiry', () => {
    const used = run(
      { type: 'model_step_started', at: 10 },
      { type: 'usage_reported', usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 } },
      { type: 'usage_reported', usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } },
    );
    expect(reduce(used, { type: 'completed', at: 20 }).run).toMatchObject({
      status: 'completed',
      completed_at: 20,
      expires_at: null,
      usage: { prompt_tokens: 6, completion_tokens: 6, total_tokens: 12 },
    });
    expect(reduce(used, { type: 'incomplete', reason: 'max_prompt_tokens' }).run).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_prompt_tokens' },
      expires_at: null,
    });
  });

  it('cancels through cancelling, clearing required_action, and ends cancelled', () => {
    const cancelling = reduce(waiting(), { type: 'cancel_requested' });
    expect(cancelling).toMatchObject({ cancelRequested: true, run: { status: 'cancelling', required_action: null } });
    expect(reduce(cancelling, { type: 'cancelled', at: 30 }).run).toMatchObject({
      status: 'cancelled',
      cancelled_at: 30,
      expires_at: null,
    });
  });

  it('ends expired and failed with their fields', () => {
    expect(reduce(waiting(), { type: 'expired' }).run).toMatchObject({ status: 'expired', required_action: null });
    const error = { code: 'server_error' as const, message: 'boom' };
    expect(reduce(waiting(), { type: 'failed', at: 40, error }).run).toMatchObject({
      status: 'failed',
      failed_at: 40,
      last_error: error,
      required_action: null,
    });
  });
});

describe('run machine: tool-output submissions', () => {
  const now = EXPIRES * 1000 - 1;
  it('accepts exactly the pending calls, inline or stored', () => {
    expect(outputsProblem(waiting(), both, now)).toBeUndefined();
    const stored = { tool_outputs: [{ tool_call_id: 'call_b' }, { tool_call_id: 'call_a' }], stored_as: 'k' };
    expect(outputsProblem(waiting(), stored, now)).toBeUndefined();
  });

  it.each([
    ['a run not waiting', run(), both, 'Runs in status "queued" do not accept tool outputs.'],
    ['no tool_outputs', waiting(), {}, "Missing required parameter: 'tool_outputs'."],
    ['garbage', waiting(), null, "Missing required parameter: 'tool_outputs'."],
    [
      'an item without output and no stored key',
      waiting(),
      { tool_outputs: [{ tool_call_id: 'call_a' }, { tool_call_id: 'call_b' }] },
      "Invalid 'tool_outputs': every item needs a string 'tool_call_id' and a string 'output'.",
    ],
    [
      'an unknown id',
      waiting(),
      { tool_outputs: [{ tool_call_id: 'call_x', output: '' }] },
      "No tool call found with id 'call_x'.",
    ],
    [
      'a duplicate',
      waiting(),
      {
        tool_outputs: [
          { tool_call_id: 'call_a', output: '' },
          { tool_call_id: 'call_a', output: '' },
        ],
      },
      "Duplicate tool_call_id 'call_a' in tool_outputs.",
    ],
    [
      'a missing one',
      waiting(),
      { tool_outputs: [{ tool_call_id: 'call_a', output: '' }] },
      'Expected tool outputs for call_ids ["call_a","call_b"], got ["call_a"].',
    ],
  ])('refuses %s', (_what, m: RunMachine, payload: unknown, problem: string) => {
    expect(outputsProblem(m, payload, now)).toBe(problem);
  });

  it('refuses outputs at or after the expiry as an expired run', () => {
    expect(outputsProblem(waiting(), both, EXPIRES * 1000)).toBe(
      'Runs in status "expired" do not accept tool outputs.',
    );
  });
});

describe('run machine: cancel and endings', () => {
  it('cancels queued, in-progress and waiting runs only', () => {
    expect(cancelProblem(run())).toBeUndefined();
    expect(cancelProblem(waiting())).toBeUndefined();
    expect(cancelProblem(reduce(waiting(), { type: 'cancel_requested' }))).toBe(
      "Cannot cancel run with status 'cancelling'.",
    );
    expect(cancelProblem(run({ type: 'completed', at: 1 }))).toBe("Cannot cancel run with status 'completed'.");
  });

  it('lets what was asked decide the ending, not the error', () => {
    const m = waiting();
    expect(endingOf(run({ type: 'completed', at: 1 }), { cancellation: true })).toBe('already-ended');
    expect(endingOf(reduce(m, { type: 'cancel_requested' }), { cancellation: false })).toBe('cancelled');
    expect(endingOf(m, { cancellation: true })).toBe('cancelled'); // cancelled from the Temporal UI
    expect(endingOf(reduce(m, { type: 'expiry_reached' }), { cancellation: true })).toBe('expired');
    expect(endingOf(m, { cancellation: false })).toBe('failed');
  });

  it("maps failures to OpenAI's last_error codes", () => {
    const activity = (cause: Error) =>
      new ActivityFailure('failed', 'callModel', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'w', cause);
    expect(toRunError(activity(ApplicationFailure.create({ type: 'ModelRateLimited', message: 'slow down' })))).toEqual(
      { code: 'rate_limit_exceeded', message: 'slow down' },
    );
    expect(toRunError(ApplicationFailure.create({ type: 'ModelRejectedRequest', message: 'bad' }))).toEqual({
      code: 'invalid_prompt',
      message: 'bad',
    });
    expect(toRunError(ApplicationFailure.create({ type: 'ModelServerError', message: 'down' }))).toEqual({
      code: 'server_error',
      message: 'down',
    });
    expect(toRunError(new Error('odd'))).toEqual({ code: 'server_error', message: 'The run failed: odd' });
  });
});
