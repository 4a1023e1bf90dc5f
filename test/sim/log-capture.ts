/**
 * Captures the handlers' Powertools log records in the sandbox. With `POWERTOOLS_DEV` set the
 * Logger writes through the global console (as Powertools documents for tests); we keep the
 * structured records for tests and timelines, and print them only when asked.
 */
export interface LogRecord {
  level: string;
  message: string;
  [key: string]: unknown;
}

const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

export function captureHandlerLogs(sink: (record: LogRecord) => void, echo: boolean): () => void {
  process.env.POWERTOOLS_DEV = 'true';
  const originals = Object.fromEntries(METHODS.map((m) => [m, console[m]])) as Record<(typeof METHODS)[number], (...args: unknown[]) => void>;
  for (const method of METHODS) {
    console[method] = (...args: unknown[]) => {
      const [first] = args;
      if (args.length === 1 && typeof first === 'string' && first.startsWith('{') && first.includes('"service"')) {
        try {
          const record = JSON.parse(first) as LogRecord;
          if (typeof record.level === 'string' && typeof record.message === 'string') {
            sink(record);
            if (echo) originals[method](JSON.stringify(record));
            return;
          }
        } catch {
          // not a log record: print it as it is
        }
      }
      originals[method](...args);
    };
  }
  return () => {
    for (const method of METHODS) console[method] = originals[method];
  };
}
