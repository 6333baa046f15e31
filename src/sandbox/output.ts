/**
 * What one execution printed, kept within a byte budget however much the code writes: the first three
 * quarters of the budget and the last quarter (a traceback comes last, so the end matters as much as the
 * start), with a mark where the middle was dropped. Everything past the budget is counted and discarded.
 */
export class OutputCapture {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer = Buffer.alloc(0);
  private total = 0;

  constructor(private readonly maxBytes: number) {
    this.headLimit = Math.floor((maxBytes * 3) / 4);
    this.tailLimit = maxBytes - this.headLimit;
  }

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(this.headLimit - this.headBytes, rest.length);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    // The tail is a sliding window over the last `tailLimit` bytes seen after the head filled up.
    this.tail =
      rest.length >= this.tailLimit
        ? Buffer.from(rest.subarray(rest.length - this.tailLimit))
        : Buffer.concat([this.tail, rest]).subarray(-this.tailLimit);
  }

  get bytesSeen(): number {
    return this.total;
  }

  get truncated(): boolean {
    return this.total > this.maxBytes;
  }

  /** The text as the model and the step see it (invalid UTF-8 and cut characters become U+FFFD). */
  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    if (!this.truncated) return head + this.tail.toString('utf8');
    const dropped = this.total - this.headBytes - this.tail.length;
    return (
      `${head}\n[… output truncated: ${dropped} of ${this.total} bytes omitted here (the limit is ` +
      `${this.maxBytes} bytes per execution) …]\n${this.tail.toString('utf8')}`
    );
  }
}

/**
 * Splits the interpreter's output stream into executions: everything before an execution's end mark is its
 * output. Output printed between executions (a background thread, a leftover subprocess) counts towards the
 * next one. Bytes that could be the start of the mark are held back until the next chunk decides.
 */
export class OutputDemux {
  private capture: OutputCapture;
  private held: Buffer = Buffer.alloc(0);
  private mark: Buffer | null = null;
  private resolve: ((text: string) => void) | undefined;

  constructor(private readonly maxBytes: number) {
    this.capture = new OutputCapture(maxBytes);
  }

  until(mark: string): Promise<string> {
    this.mark = Buffer.from(mark);
    return new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  push(chunk: Buffer): void {
    if (!this.mark) {
      this.capture.add(chunk);
      return;
    }
    const data = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    const at = data.indexOf(this.mark);
    if (at >= 0) {
      this.capture.add(data.subarray(0, at));
      const rest = data.subarray(at + this.mark.length);
      this.held = Buffer.alloc(0);
      this.finish();
      this.push(rest);
      return;
    }
    const keep = Math.min(data.length, this.mark.length - 1);
    this.capture.add(data.subarray(0, data.length - keep));
    this.held = Buffer.from(data.subarray(data.length - keep));
  }

  /** The process is gone: whatever it printed is the output of the execution in progress. */
  end(): void {
    this.capture.add(this.held);
    this.held = Buffer.alloc(0);
    if (this.mark) this.finish();
  }

  private finish(): void {
    const text = this.capture.text();
    this.capture = new OutputCapture(this.maxBytes);
    this.mark = null;
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.(text);
  }
}
