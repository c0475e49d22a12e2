// The transport: carries each request the Rust core hands out with fetch, and hands
// the answer back. It decides nothing — what to ask next, what to retry and when is
// the core's (kring-sync's engine); this only waits the delay it was told, and says
// when no answer came at all.

function decode(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long one request may take before it counts as no answer. */
const TIMEOUT_MS = 30000;

/**
 * Drives one operation to its end. `first` is the core's first request (JSON);
 * `core` is the Kring object. Resolves with the core's "done" step; rejects with the
 * core's typed failure.
 */
export async function drive(core, first) {
  let step = { type: "send", ...JSON.parse(first) };
  while (step.type === "send") {
    if (step.delay_ms > 0) await sleep(Math.min(step.delay_ms, 60000));
    let response;
    let body;
    try {
      response = await fetch(step.url, {
        method: step.method,
        headers: step.headers,
        body: step.method === "GET" || step.method === "HEAD" ? undefined : decode(step.body),
        cache: "no-store",
        credentials: "omit",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      // A connection that drops while the body arrives is no answer either.
      body = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      step = JSON.parse(core.unreachable(String(error && error.name), Date.now()));
      continue;
    }
    const retry = response.headers.get("retry-after");
    const retryAfter = retry !== null && /^\d+$/.test(retry.trim()) ? Number(retry) : -1;
    step = JSON.parse(core.answer(response.status, retryAfter, body, Date.now()));
  }
  return step;
}
