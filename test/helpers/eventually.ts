// Retries an assertion until it holds or `ms` pass: for what the gateway
// records asynchronously (probe metrics and log lines are written when the
// reply's connection closes).
export async function eventually (fn: () => Promise<void>, ms = 2000): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try {
      await fn()
      return
    } catch (err) {
      if (Date.now() > until) throw err
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
}
