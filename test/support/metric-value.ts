/** The value of one series (`held_waits`, `evictions_total`) in GET /metrics of the server at `url`. */
export async function metricValue(url: string, series: string): Promise<number> {
  const response = await fetch(`${url}/metrics`);
  const text = await response.text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  if (!response.ok || line === undefined) {
    throw new Error(`GET ${url}/metrics answered HTTP ${response.status} without ${series}`);
  }
  return Number(line.slice(series.length + 1));
}
