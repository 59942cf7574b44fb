import type { EventSourceMessage } from 'eventsource-parser';
import type { HeaderReader } from '../../http-client.js';
import type { SampleParams } from '../params.js';
import type { ProviderError } from '../provider-error.js';
import type { Target } from '../targets.js';
import type { Usage } from '../types.js';

/** An HTTP request ready for fetch (always a POST with a JSON body). */
export interface ProviderRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A provider's answer in the router's terms. */
export interface Completion {
  text: string;
  /** The model as the provider named it, when it did. */
  model: string | undefined;
  stopReason: string | undefined;
  /** Undefined when the provider reported none (some OpenAI-compatible servers). */
  usage: Usage | undefined;
}

/** Reads one provider's SSE events; one decoder per streamed attempt. */
export interface StreamDecoder {
  /** The text this event adds ('' when none). Throws a ProviderError for an error event. */
  event(message: EventSourceMessage): string;
  /** The provider said the answer is finished (a finish reason, message_stop, [DONE]). */
  readonly complete: boolean;
  /** No further events are expected, so reading may stop before the body ends. */
  readonly ended: boolean;
  /** Everything but the text, once the stream is over. */
  finish(): Omit<Completion, 'text'>;
}

/**
 * One wire format. Adapters are pure mappings: they build requests, read bodies and
 * classify errors into the router's taxonomy; fetching, timing and deciding what to do
 * next happen elsewhere (attempt.ts, decide.ts).
 */
export interface ProviderAdapter {
  request(target: Target, params: SampleParams, stream: boolean): ProviderRequest;
  /** Reads a whole JSON answer; throws a ProviderError for an error body or a malformed one. */
  parse(body: unknown): Completion;
  stream(): StreamDecoder;
  /** The error a non-2xx response stands for. */
  error(status: number, body: string, headers: HeaderReader, nowMs: number): ProviderError;
}
