/**
 * Which hosts server-side HTTP tools may call (`THREADLINE_SERVER_TOOL_HOSTS`): exact host names, each
 * optionally with a port (`tools.internal`, `127.0.0.1:9000`). Empty: no HTTP tool may be registered. Checked
 * when a tool is registered and again before every call (a registration written straight into the database,
 * or an allow-list narrowed since, still cannot reach elsewhere).
 */
export class HostAllowList {
  private readonly entries: Array<{ host: string; port: string | undefined }>;

  constructor(spec: readonly string[]) {
    this.entries = spec.map((entry) => {
      const url = new URL(`http://${entry}`);
      return { host: url.hostname.toLowerCase(), port: url.port || undefined };
    });
  }

  static parse(value: string | undefined): HostAllowList {
    return new HostAllowList(
      (value ?? '')
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    );
  }

  allows(target: string | URL): boolean {
    const url = typeof target === 'string' ? new URL(target) : target;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const host = url.hostname.toLowerCase();
    return this.entries.some((entry) => entry.host === host && (entry.port === undefined || entry.port === port));
  }
}
