// What the caller accepts of the body's encoding, which decides how the probe
// relays a gzip body: as the target sent it to a caller that accepts gzip
// (Prometheus does), gunzipped for one that does not.

/** Whether an Accept-Encoding header admits gzip (`gzip` or `*`, with q > 0). */
export function acceptsGzip (header: string | string[] | undefined): boolean {
  if (header === undefined) return false
  const value = Array.isArray(header) ? header.join(',') : header
  for (const part of value.split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';')
    if (coding.trim() !== 'gzip' && coding.trim() !== '*') continue
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    if (q === undefined || Number(q.slice(2)) > 0) return true
  }
  return false
}
