/** Readiness of the app's dependencies (GET /health/ready): one timed probe per store or service. */
export interface DependencyStatus { name: string; ok: boolean; detail?: string; latency_ms: number }

export async function probe(name: string, fn: () => Promise<void>): Promise<DependencyStatus> {
  const t0 = performance.now();
  try {
    await fn();
    return { name, ok: true, latency_ms: performance.now() - t0 };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message, latency_ms: performance.now() - t0 };
  }
}
