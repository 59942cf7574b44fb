/**
 * A `fetch` for the SDK's HTTP client transports that gives every request its own
 * AbortSignal.
 *
 * The SDK hands the transport's one long-lived signal to `fetch` for every request.
 * Node's fetch (undici) adds an abort listener to that signal and removes it only when
 * the request is garbage collected, so the listeners pile up: past 1,500 Node prints a
 * MaxListenersExceededWarning, and each new listener costs more CPU than the last.
 * `AbortSignal.any([shared])` is no cure: a dependent signal with a listener on it is
 * kept alive as long as its source is (which is also why the SDK's own per-request
 * composite, used in the 2026 era, stayed in memory once fetch had listened to it).
 *
 * Here each request gets a signal of its own, linked to the one the SDK passes (the
 * transport's, or the SDK's per-request composite of it) for as long as the request
 * lives: until it fails, until its body has been read to the end or cancelled, or, for a
 * body that is not a stream of events, until its headers arrive (the SDK reads such a
 * body at once). A signal the SDK passes holds one listener while any request linked to
 * it is in flight, and none after; closing the transport still aborts them all.
 */
export function ownSignalFetch(base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const outer = init?.signal;
    if (!outer || outer.aborted) return base(input, init);
    const controller = new AbortController();
    const done = link(outer, controller);
    let response: Response;
    try {
      response = await base(input, { ...init, signal: controller.signal });
    } catch (error) {
      done();
      throw error;
    }
    const type = response.headers.get('content-type') ?? '';
    if (!response.body || !type.toLowerCase().includes('text/event-stream')) {
      done();
      return response;
    }
    return new Response(untilEnd(response.body, done), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

interface Links {
  controllers: Set<AbortController>;
  onAbort: () => void;
}

/** Requests in flight per signal the SDK passed, behind one listener on that signal. */
const linked = new WeakMap<AbortSignal, Links>();

/** Aborts `controller` with `outer`, until the returned function is called. */
function link(outer: AbortSignal, controller: AbortController): () => void {
  let links = linked.get(outer);
  if (!links) {
    const controllers = new Set<AbortController>();
    const onAbort = () => {
      linked.delete(outer);
      for (const each of controllers) each.abort(outer.reason);
      controllers.clear();
    };
    links = { controllers, onAbort };
    linked.set(outer, links);
    outer.addEventListener('abort', onAbort, { once: true });
  }
  const { controllers, onAbort } = links;
  controllers.add(controller);
  return () => {
    if (!controllers.delete(controller) || controllers.size > 0) return;
    outer.removeEventListener('abort', onAbort);
    if (linked.get(outer) === links) linked.delete(outer);
  };
}

/** The same bytes, calling `done` once the stream ends, fails or is cancelled. */
function untilEnd(body: ReadableStream<Uint8Array>, done: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) {
          done();
          controller.close();
        } else {
          controller.enqueue(chunk.value);
        }
      } catch (error) {
        done();
        controller.error(error);
      }
    },
    cancel(reason) {
      done();
      return reader.cancel(reason);
    },
  });
}
