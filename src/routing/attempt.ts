import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { errorMessage } from '../errors.js';
import type { SampleParams } from './params.js';
import { ProviderError } from './provider-error.js';
import type { Completion, ProviderAdapter } from './providers/index.js';
import { parseJson } from './providers/shared.js';
import type { RouterSettings } from './settings.js';
import type { Target } from './targets.js';
import { AttemptTimers } from './attempt-timers.js';
import type { ProviderFetch, ProviderResponse } from '../http-client.js';

export interface AttemptInput {
  target: Target;
  adapter: ProviderAdapter;
  params: SampleParams;
  stream: boolean;
  settings: RouterSettings;
  fetch: ProviderFetch;
  now: () => number;
  /** The chain's deadline on the `now` clock. */
  deadlineAt: number;
  signal: AbortSignal | undefined;
  onToken: ((text: string) => void) | undefined;
}

export interface AttemptSuccess {
  completion: Completion;
  latencyMs: number;
  ttftMs: number | undefined;
}

/**
 * One request to one target. Throws a ProviderError (timeouts and cancellation
 * included). A stream is held back until its first real token: until then nothing
 * reaches `onToken` and any failure leaves the chain free to try another target. From
 * the first token on, output is committed: a later failure is thrown with `committed`
 * set and the text so far, so that it ends the call with an explicit error.
 */
export async function runAttempt(input: AttemptInput): Promise<AttemptSuccess> {
  const { target, settings, now } = input;
  const started = now();
  const timers = new AttemptTimers(input.signal);
  const remaining = input.deadlineAt - started;
  if (remaining <= settings.attemptTimeoutMs) {
    timers.arm('deadline', remaining, `the deadline of the call ran out during ${target.id}`);
  } else {
    timers.arm('attempt', settings.attemptTimeoutMs, `${target.id} took longer than ${settings.attemptTimeoutMs} ms`);
  }
  try {
    const request = input.adapter.request(target, input.params, input.stream);
    if (input.stream) {
      timers.arm(
        'connect',
        settings.connectTimeoutMs,
        `${target.id} sent no response headers within ${settings.connectTimeoutMs} ms`,
      );
      timers.arm(
        'first_token',
        settings.firstTokenTimeoutMs,
        `${target.id} sent no token within ${settings.firstTokenTimeoutMs} ms`,
      );
    }
    let response: ProviderResponse;
    try {
      response = await input.fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: timers.signal,
      });
    } catch (error) {
      throw timers.reason ?? networkError(target, error);
    }
    timers.disarm('connect');
    if (!response.ok) {
      const text = await readText(response, timers, target);
      // Retry-After as an HTTP date is wall-clock time, whatever clock the router was given.
      throw input.adapter.error(response.status, text, response.headers, Date.now());
    }
    if (!input.stream || isJson(response)) {
      // A server that ignored `stream: true` (or put an error in a 200) answers with plain JSON.
      let body: unknown;
      try {
        body = parseJson(await readText(response, timers, target), `${target.id} response`);
      } catch (error) {
        // A 200 whose body broke: the provider generated the answer and bills it.
        const failure = error instanceof ProviderError ? error : (timers.reason ?? networkError(target, error));
        failure.billable = true;
        throw failure;
      }
      timers.settled = true;
      const completion = input.adapter.parse(body);
      if (input.stream && completion.text !== '') emit(input.onToken, completion.text);
      return { completion, latencyMs: now() - started, ttftMs: undefined };
    }
    return await readStream(input, response, timers, started);
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw timers.reason ?? networkError(target, error);
  } finally {
    timers.dispose();
  }
}

async function readStream(
  input: AttemptInput,
  response: ProviderResponse,
  timers: AttemptTimers,
  started: number,
): Promise<AttemptSuccess> {
  const { target, now } = input;
  const decoder = input.adapter.stream();
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  const text = new TextDecoder();
  let output = '';
  let ttftMs: number | undefined;

  const take = (): void => {
    for (const event of pending.splice(0)) {
      if (decoder.ended) return;
      const delta = decoder.event(event);
      if (delta === '') continue;
      if (ttftMs === undefined) {
        ttftMs = now() - started;
        timers.disarm('first_token');
        timers.arm(
          'idle',
          input.settings.idleTimeoutMs,
          `${target.id} went silent for ${input.settings.idleTimeoutMs} ms`,
        );
      }
      output += delta;
      emit(input.onToken, delta);
    }
  };

  try {
    if (!response.body) throw new ProviderError('bad_response', `${target.id} sent a stream without a body`);
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      timers.refresh('idle');
      parser.feed(text.decode(chunk, { stream: true }));
      take();
      if (decoder.ended) break;
    }
    timers.settled = true; // read to its end, or (break above) the body was closed by leaving the loop
    parser.feed(text.decode());
    parser.reset({ consume: true });
    take();
    if (!decoder.complete) {
      throw new ProviderError(
        'stream_cut',
        ttftMs === undefined
          ? `${target.id} ended the stream before the first token`
          : `${target.id} cut the stream after ${output.length} characters, before it finished`,
      );
    }
  } catch (caught) {
    const error =
      timers.reason ?? (caught instanceof ProviderError ? caught : streamError(target, caught, ttftMs !== undefined));
    if (ttftMs !== undefined) {
      error.committed = true;
      error.partialText = output;
      error.billable = true;
      // Usage is final only once the provider said the answer was done; a cut mid-answer leaves it unknown.
      if (decoder.complete) error.usage = decoder.finish().usage;
    }
    throw error;
  }
  return { completion: { text: output, ...decoder.finish() }, latencyMs: now() - started, ttftMs };
}

async function readText(response: ProviderResponse, timers: AttemptTimers, target: Target): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw timers.reason ?? networkError(target, error);
  }
}

function isJson(response: ProviderResponse): boolean {
  return /\bjson\b/i.test(response.headers.get('content-type') ?? '');
}

function emit(onToken: ((text: string) => void) | undefined, text: string): void {
  if (!onToken) return;
  try {
    onToken(text);
  } catch {
    // A listener's failure must not turn into a provider failure; the text is in the result anyway.
  }
}

function networkError(target: Target, error: unknown): ProviderError {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return new ProviderError('network', `${target.id}: ${errorMessage(error)}${cause}`, { cause: error });
}

function streamError(target: Target, error: unknown, afterOutput: boolean): ProviderError {
  const where = afterOutput ? 'after output had started' : 'before the first token';
  return new ProviderError('stream_cut', `${target.id}: the stream broke ${where} (${errorMessage(error)})`, {
    cause: error,
  });
}
